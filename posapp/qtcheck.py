"""Can Qt's platform plugin load here? Asked before Qt is imported, so a missing system
library is named with the command that installs it, instead of Qt's "no Qt platform plugin
could be initialized" and an abort.

Linux only: Windows and macOS wheels carry everything Qt needs. The check runs ``ldd`` on
PySide6's own ``libqxcb.so`` with this process's environment, so it sees exactly what the
dynamic loader will see when Qt loads the plugin (``LD_LIBRARY_PATH``, the loader's cache,
the bundle's own folder). No Qt, no I/O beyond that: the CLI and the tests use it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# soname -> (Debian/Ubuntu package, Fedora package). The xcb plugin's own needs first, then
# what Qt's GUI library itself needs (a minimal container may lack even those).
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libpng16.so.16": ("libpng16-16", "libpng"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)
PLUGIN = "libqxcb.so"


@dataclass(frozen=True)
class PlatformProblem:
    """Why the counter window cannot open here, and what to install."""

    missing: tuple[str, ...] = ()  # sonames the dynamic loader cannot find
    no_display: bool = False

    def packages(self, distro: str) -> list[str]:
        """Package names for ``debian`` or ``fedora``; unknown sonames are left out."""
        index = 0 if distro == "debian" else 1
        names: list[str] = []
        for soname in self.missing:
            known = PACKAGES.get(soname)
            if known and known[index] not in names:
                names.append(known[index])
        return names

    def message(self) -> str:
        if self.no_display:
            return (
                "posapp: the counter window needs a desktop, and this session has none "
                "(DISPLAY is not set). Start posapp from the desktop, or run "
                "'posapp --self-test' with QT_QPA_PLATFORM=offscreen to check it headless."
            )
        lines = [
            "posapp: the counter window cannot open: Qt's xcb platform plugin needs system "
            f"libraries that are missing here: {', '.join(self.missing)}.",
            "Install them, then start posapp again:",
        ]
        debian, fedora = self.packages("debian"), self.packages("fedora")
        if debian:
            lines.append(f"  Debian/Ubuntu: sudo apt-get install {' '.join(debian)}")
        if fedora:
            lines.append(f"  Fedora:        sudo dnf install {' '.join(fedora)}")
        unknown = [s for s in self.missing if s not in PACKAGES]
        if unknown:
            lines.append(f"  (and the package that provides {', '.join(unknown)})")
        return "\n".join(lines)


def xcb_plugin(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The ``libqxcb.so`` Qt will load: QT_QPA_PLATFORM_PLUGIN_PATH's, else PySide6's own
    (found without importing it), else the frozen bundle's. None when there is none."""
    folders: list[Path] = []
    if environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        folders.append(Path(environ["QT_QPA_PLATFORM_PLUGIN_PATH"]))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(Path(bundle) / "PySide6" / "Qt" / "plugins" / "platforms")
    spec = importlib.util.find_spec("PySide6")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folders.append(Path(location) / "Qt" / "plugins" / "platforms")
    for folder in folders:
        if (folder / PLUGIN).is_file():
            return folder / PLUGIN
    return None


def missing_libraries(library: Path, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The sonames ``library`` needs (directly or through its dependencies) that the
    dynamic loader cannot find with this environment. Empty when ldd is not there."""
    ldd = shutil.which("ldd", path=environ.get("PATH"))
    if ldd is None:
        return []
    try:
        out = subprocess.run(
            [ldd, str(library)],
            capture_output=True,
            text=True,
            timeout=20,
            env=dict(environ),
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    found: list[str] = []
    for soname in _NOT_FOUND.findall(out.stdout):
        if soname not in found:
            found.append(soname)
    return found


def _platform(environ: Mapping[str, str], default: str) -> str:
    """The first platform Qt will try: QT_QPA_PLATFORM's first entry, else Qt's own choice
    (Wayland in a Wayland session, xcb otherwise), else ``default``."""
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if default != "xcb":
        return default
    if environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def platform_problem(
    environ: Mapping[str, str] = os.environ, *, default: str = "xcb"
) -> PlatformProblem | None:
    """None when Qt's platform plugin can load here (or when this is not Linux, or the
    platform is not xcb); else what is missing. ``default`` is the platform used when
    QT_QPA_PLATFORM is unset (``offscreen`` for the self-test)."""
    if not sys.platform.startswith("linux") or _platform(environ, default) != "xcb":
        return None
    plugin = xcb_plugin(environ)
    if plugin is None:
        return None  # not our PySide6 layout: let Qt say what it says
    missing = missing_libraries(plugin, environ)
    if missing:
        return PlatformProblem(missing=tuple(missing))
    if not environ.get("DISPLAY"):
        return PlatformProblem(no_display=True)
    return None
