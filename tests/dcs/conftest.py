"""DCS tests render headless: EGL unless the user chose a GL backend."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
