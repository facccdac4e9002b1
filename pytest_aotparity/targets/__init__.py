"""Where the builds run: containers, local processes or URLs, behind one protocol.

Importing this package is cheap: testcontainers and docker are imported only when an
``image:`` target is created or containers are swept.
"""

from pytest_aotparity.targets.base import (
    DEFAULT_START_GRACE,
    GRACE_ANSWERS,
    HealthAnswer,
    HealthPathError,
    StartFailedError,
    StartFailure,
    Target,
    TargetKind,
    TargetOptions,
    TargetSpec,
    TargetsStartError,
    TargetStartError,
    default_state_dir,
    parse_target,
)
from pytest_aotparity.targets.lifecycle import (
    EmergencyCleanup,
    StopReport,
    SweepReport,
    create_target,
    register_emergency_cleanup,
    start_error_note,
    start_targets,
    stop_targets,
    sweep_orphans,
)

__all__ = [
    "DEFAULT_START_GRACE",
    "GRACE_ANSWERS",
    "EmergencyCleanup",
    "HealthAnswer",
    "HealthPathError",
    "StartFailedError",
    "StartFailure",
    "StopReport",
    "SweepReport",
    "Target",
    "TargetKind",
    "TargetOptions",
    "TargetSpec",
    "TargetStartError",
    "TargetsStartError",
    "create_target",
    "default_state_dir",
    "parse_target",
    "register_emergency_cleanup",
    "start_error_note",
    "start_targets",
    "stop_targets",
    "sweep_orphans",
]
