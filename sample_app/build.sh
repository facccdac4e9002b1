#!/usr/bin/env bash
# Publish the sample players APIs twice each (JIT and Native AOT) with the local .NET SDK and
# package each build as a container image WITHOUT pulling anything. The apps:
#
#   sample  src/Players.Api    the first attempt (minimal API, AutoMapper, scanned validators)
#           -> aotparity-sample:jit|aot, outputs in out/ (jit/, aot/, aot-warnings.json, ...)
#   fixed   src/Players.Fixed  the same API with every AOT divergence fixed the official way
#           -> aotparity-fixed:jit|aot, outputs in out/fixed/
#   mvc     src/Players.Mvc    MVC controllers + EF Core + AutoMapper 14 + FluentValidation +
#           Swashbuckle, as a team writes it first -> aotparity-mvc:jit|aot, outputs in out/mvc/
#           (its AOT publish succeeds; the AOT build exits at start: docs/sample-app-findings.md)
#
#   jit image: framework-dependent publish + the .NET runtime copied from the SDK
#   aot image: the Native AOT executable
#
# Each image is a root filesystem assembled from the publish output, the shared libraries that
# ldd names, /etc/passwd with a non-root user and an empty /tmp, imported with `docker import`.
# (On a machine that can pull, each app's Dockerfile and Dockerfile.aot build the same app from
# the official images.)
#
# Outputs per app (gitignored): jit/ and aot/ publish outputs, jit-/aot-publish.log,
# aot-warnings.json (the IL2xxx/IL3xxx warnings with code, message and member) and
# build-times.json (publish seconds of each build).
#
# Usage: sample_app/build.sh [--app sample|fixed|mvc] [--skip-publish] [--only jit|aot]
#   (default: every app, both builds; --app may be given more than once)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_root="$here/out"
rid="linux-x64"
app_uid=1654 # the uid of the 'app' user in the official .NET images
all_apps=(sample fixed mvc)
skip_publish=0
only=""
apps=()

die() {
    printf 'build.sh: %s\n' "$1" >&2
    [ -n "${2:-}" ] && printf '  how to fix: %s\n' "$2" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --skip-publish) skip_publish=1 ;;
    --only)
        shift
        only="${1:-}"
        [ "$only" = jit ] || [ "$only" = aot ] || die "--only takes jit or aot, not '${only}'"
        ;;
    --app)
        shift
        case "${1:-}" in
        sample | fixed | mvc) apps+=("$1") ;;
        *) die "--app takes one of ${all_apps[*]}, not '${1:-}'" "run $0 --help" ;;
        esac
        ;;
    -h | --help)
        sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument '$1'" "run $0 --help" ;;
    esac
    shift
done
[ ${#apps[@]} -gt 0 ] || apps=("${all_apps[@]}")

want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

# --- prerequisites: fail at once, before anything is built --------------------------------
command -v dotnet >/dev/null 2>&1 ||
    die "the .NET SDK is missing (no 'dotnet' on PATH)" \
        "install the .NET 10 SDK (https://dotnet.microsoft.com/download) and put 'dotnet' on PATH"
sdk_major="$(dotnet --version 2>/dev/null | cut -d. -f1 || true)"
[ -n "$sdk_major" ] && [ "$sdk_major" -ge 10 ] ||
    die "the .NET SDK is '$(dotnet --version 2>/dev/null || echo none)'; net10.0 needs SDK 10 or later" \
        "install the .NET 10 SDK"
command -v docker >/dev/null 2>&1 ||
    die "Docker is missing (no 'docker' on PATH)" "apt-get install -y docker.io (or Docker Engine)"
docker info >/dev/null 2>&1 ||
    die "the Docker engine does not answer (docker info failed)" \
        "start it: 'dockerd &' or 'systemctl start docker', or set DOCKER_HOST"
if want aot; then
    command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 ||
        die "Native AOT needs a C toolchain to link: neither clang nor gcc is on PATH" \
            "apt-get install -y clang zlib1g-dev"
    [ -e /usr/include/zlib.h ] || ldconfig -p 2>/dev/null | grep -q 'libz\.so ' ||
        die "Native AOT links against zlib, and its development files are missing" \
            "apt-get install -y zlib1g-dev"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is missing (used to collect warnings)" \
    "apt-get install -y python3"

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime_version="$(dotnet --list-runtimes | awk '/^Microsoft.NETCore.App /{v=$2} END{print v}')"
aspnet_version="$(dotnet --list-runtimes | awk '/^Microsoft.AspNetCore.App /{v=$2} END{print v}')"
[ -n "$runtime_version" ] && [ -n "$aspnet_version" ] ||
    die "the SDK has no Microsoft.NETCore.App / Microsoft.AspNetCore.App runtime to copy" \
        "install the ASP.NET Core runtime 10 beside the SDK"

# --- the apps ----------------------------------------------------------------------------------
# Sets: name (the assembly), project, out, image_repo.
select_app() { # app
    case "$1" in
    sample)
        name=Players.Api
        out="$out_root" # today's paths, read by other tests and tools
        image_repo="${AOTPARITY_SAMPLE_IMAGE:-aotparity-sample}"
        ;;
    fixed)
        name=Players.Fixed
        out="$out_root/fixed"
        image_repo=aotparity-fixed
        ;;
    mvc)
        name=Players.Mvc
        out="$out_root/mvc"
        image_repo=aotparity-mvc
        ;;
    esac
    app="$1"
    project="$here/src/$name/$name.csproj"
    [ -f "$project" ] || die "no project for app '$1' at $project"
    mkdir -p "$out"
}

# --- publish -------------------------------------------------------------------------------
publish() { # build-name extra-args...
    local build="$1"
    shift
    local start end
    rm -rf "${out:?}/$build"
    start="$(date +%s.%N)"
    dotnet publish "$project" -c Release -r "$rid" -o "$out/$build" -p:TrimmerSingleWarn=false \
        "$@" >"$out/$build-publish.log" 2>&1 || {
        tail -n 30 "$out/$build-publish.log" >&2
        die "the $build publish of $app ($name) failed (full log: $out/$build-publish.log)"
    }
    end="$(date +%s.%N)"
    python3 - "$out/build-times.json" "$build" "$start" "$end" <<'PY'
import json, sys, pathlib
path, build, start, end = pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
data = json.loads(path.read_text()) if path.exists() else {}
data[build] = {"publish_seconds": round(end - start, 2)}
path.write_text(json.dumps(data, indent=2) + "\n")
PY
    echo "build.sh: published $app $build in $(python3 -c "print(round($end - $start, 1))") s -> $out/$build"
}

# --- root filesystems ------------------------------------------------------------------------
copy_libs() { # rootfs file...
    local rootfs="$1"
    shift
    local lib
    for lib in $(ldd "$@" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | sort -u); do
        mkdir -p "$rootfs$(dirname "$lib")"
        cp -L "$lib" "$rootfs$lib"
    done
}

base_rootfs() { # rootfs
    local rootfs="$1"
    rm -rf "$rootfs"
    mkdir -p "$rootfs"/{app,etc,tmp,home/app}
    chmod 1777 "$rootfs/tmp"
    printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:%s:%s:app:/home/app:/sbin/nologin\n' \
        "$app_uid" "$app_uid" >"$rootfs/etc/passwd"
    printf 'root:x:0:\napp:x:%s:\n' "$app_uid" >"$rootfs/etc/group"
    printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
    chown -R "$app_uid:$app_uid" "$rootfs/home/app"
    # OpenSSL is loaded on demand by the runtime's crypto shim; ship it in both images alike.
    local ssl
    for ssl in /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3; do
        [ -e "$ssl" ] && copy_libs "$rootfs" "$ssl" && mkdir -p "$rootfs$(dirname "$ssl")" &&
            cp -L "$ssl" "$rootfs$ssl"
    done
    mkdir -p "$rootfs/lib64"
}

import_image() { # build rootfs entrypoint-json env...
    local build="$1" rootfs="$2" entrypoint="$3"
    shift 3
    local tarball="$out/image-$build.tar" image_id
    local changes=(--change "USER $app_uid" --change "WORKDIR /app" --change "EXPOSE 8080"
        --change "ENTRYPOINT $entrypoint"
        --change "LABEL org.opencontainers.image.title=$image_repo-$build"
        --change "ENV ASPNETCORE_URLS=http://0.0.0.0:8080"
        --change "ENV ASPNETCORE_ENVIRONMENT=Production"
        --change "ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true")
    local kv
    for kv in "$@"; do changes+=(--change "ENV $kv"); done
    # Write the whole layer first, import it untagged, and tag only a complete image.
    tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    local previous
    previous="$(docker image inspect -f '{{.Id}}' "$image_repo:$build" 2>/dev/null || true)"
    image_id="$(docker import "${changes[@]}" "$tarball")"
    docker tag "$image_id" "$image_repo:$build"
    # The image this one replaces is now untagged: remove it unless a container still uses it.
    if [ -n "$previous" ] && [ "$previous" != "$image_id" ]; then
        docker rmi "$previous" >/dev/null 2>&1 || true
    fi
    rm -f "$tarball"
    echo "build.sh: tagged $image_repo:$build ($(docker image inspect -f '{{.Size}}' "$image_repo:$build") bytes)"
}

aot_image() {
    [ -x "$out/aot/$name" ] || die "no AOT publish output in $out/aot" "run without --skip-publish"
    local rootfs="$out/rootfs-aot"
    base_rootfs "$rootfs"
    cp "$out/aot/$name" "$out/aot/appsettings.json" "$rootfs/app/"
    cp "$out/aot"/*.so "$rootfs/app/"
    copy_libs "$rootfs" "$out/aot/$name" "$out/aot"/*.so
    import_image aot "$rootfs" "[\"/app/$name\"]"
}

jit_image() {
    [ -f "$out/jit/$name.dll" ] || die "no JIT publish output in $out/jit" "run without --skip-publish"
    local rootfs="$out/rootfs-jit"
    base_rootfs "$rootfs"
    cp -r "$out/jit/." "$rootfs/app/"
    rm -f "$rootfs/app/$name" "$rootfs/app"/*.pdb
    local dn="$rootfs/usr/share/dotnet"
    mkdir -p "$dn/host/fxr" "$dn/shared/Microsoft.NETCore.App" "$dn/shared/Microsoft.AspNetCore.App"
    cp "$dotnet_root/dotnet" "$dn/"
    cp -r "$dotnet_root/host/fxr/$(ls "$dotnet_root/host/fxr" | sort -V | tail -n 1)" "$dn/host/fxr/"
    cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$runtime_version" "$dn/shared/Microsoft.NETCore.App/"
    cp -r "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet_version" "$dn/shared/Microsoft.AspNetCore.App/"
    copy_libs "$rootfs" "$dn/dotnet" $(find "$dn" "$rootfs/app" -name '*.so' -o -name '*.so.*')
    import_image jit "$rootfs" "[\"/usr/share/dotnet/dotnet\", \"/app/$name.dll\"]" \
        "DOTNET_ROOT=/usr/share/dotnet" "PATH=/usr/share/dotnet:/usr/bin:/bin"
}

build_app() { # app
    select_app "$1"
    if [ "$skip_publish" -eq 0 ]; then
        # Restore once so that the two timed publishes measure the build, not the download.
        dotnet restore "$project" -r "$rid" >/dev/null
        dotnet restore "$project" -r "$rid" -p:PublishAot=true >/dev/null
        want jit && publish jit --self-contained false
        if want aot; then
            publish aot -p:PublishAot=true
            python3 "$here/tools/aot_warnings.py" "$out/aot-publish.log" "$out/aot-warnings.json"
        fi
    fi
    if want aot; then aot_image; fi
    if want jit; then jit_image; fi
}

for a in "${apps[@]}"; do
    build_app "$a"
done
