"""A fake build that fails its start the ways a first Native AOT publish does.

Run it as ``python tests/fakeapps/broken.py --mode MODE --port PORT``. Standard library only,
so it starts in a fraction of a second:

===========  ====================================================================================
mode         what it does
===========  ====================================================================================
ok           answers 200 ``{"status":"Healthy"}`` on every path (a healthy build to compare with)
exit         writes a .NET-style ``Unhandled exception. System.X: message`` with ``at`` frames to
             stderr and exits with ``--exit-code`` (default 134, as .NET aborts)
segv         writes a log line and dies of SIGSEGV, with no managed exception (a native crash)
health500    serves, but answers 500 problem+json on every path and logs the exception each time
             (like ``JsonTypeInfo metadata ... was not provided`` in an AOT build)
health404    serves, but answers 404 on every path but ``/ready`` (a wrong health path)
slow         answers nothing for ``--delay`` seconds (the port is not even open), then 200
===========  ====================================================================================

``--count-file PATH`` appends one line per request, so a test can count health polls instead
of timing the start.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import sys
import time

UNHANDLED = """\
Unhandled exception. System.InvalidOperationException: Unable to resolve the Serilog sink \
'Console' from configuration: the type was trimmed.
   at Serilog.Settings.Configuration.ConfigurationReader.LoadSinks(ILoggerSinkConfiguration) + 0x1c4
   at Serilog.Settings.Configuration.ConfigurationReader.Configure(LoggerConfiguration) + 0x2a
--- End of stack trace from previous location ---
   at Program.<Main>$(String[] args) + 0x213
"""

REQUEST_FAILED = """\
fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]
      An unhandled exception has occurred while executing the request.
      System.NotSupportedException: JsonTypeInfo metadata for type 'HealthReport' was not \
provided by TypeInfoResolver of type 'AppJsonContext'.
         at System.Text.Json.ThrowHelper.ThrowNotSupportedException_NoMetadataForType(Type, \
IJsonTypeInfoResolver) + 0x3e
         at System.Text.Json.JsonSerializerOptions.GetTypeInfoInternal(Type, Boolean) + 0x8d
         at Program.<>c.<<Main>$>b__0_1(HttpContext) + 0x51
"""

PROBLEM = {
    "type": "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    "title": "An error occurred while processing your request.",
    "status": 500,
}


def make_handler(mode: str, count_file: str | None) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if count_file:
                with open(count_file, "a", encoding="utf-8") as handle:
                    handle.write(self.path + "\n")
            if mode == "health500":
                sys.stderr.write(REQUEST_FAILED)
                sys.stderr.flush()
                self._send(500, "application/problem+json", json.dumps(PROBLEM))
            elif mode == "health404" and self.path != "/ready":
                self._send(404, "text/plain", "")
            else:
                self._send(200, "application/json", '{"status":"Healthy"}')

        def _send(self, status: int, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode",
        choices=["ok", "exit", "segv", "health500", "health404", "slow"],
        required=True,
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--exit-code", type=int, default=134)
    parser.add_argument("--delay", type=float, default=30.0)
    parser.add_argument("--count-file", default=None)
    args = parser.parse_args(argv)
    print(f"info: fake broken app ({args.mode}) starting on {args.host}:{args.port}", flush=True)
    if args.mode == "exit":
        sys.stderr.write(UNHANDLED)
        sys.stderr.flush()
        sys.exit(args.exit_code)
    if args.mode == "segv":
        print("info: Microsoft.Hosting.Lifetime[0] Building the model", flush=True)
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
    if args.mode == "slow":
        time.sleep(args.delay)
    server = http.server.ThreadingHTTPServer(
        (args.host, args.port), make_handler(args.mode, args.count_file)
    )
    print("info: Microsoft.Hosting.Lifetime[14] Now listening", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
