"""Shared by the DCS tests: skip with the reason when dm_control cannot be imported."""

import os

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")


def _dm_control_reason() -> str | None:
    try:
        import dm_control.suite  # noqa: F401
    except Exception as err:  # ImportError, or a GL stack that fails at import
        return f"dm_control is not importable ({type(err).__name__}: {err}); install the dcs extra"
    return None


DM_CONTROL_MISSING = _dm_control_reason()
needs_dm_control = pytest.mark.skipif(DM_CONTROL_MISSING is not None, reason=DM_CONTROL_MISSING or "")
