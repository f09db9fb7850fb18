#!/usr/bin/python3
# rtsp-server.py: serve a video clip over RTSP on a loopback port (GStreamer RTSP server library),
# for the camera tests and `make bench`. Prints "READY <port>" once listening; exits on SIGTERM/SIGINT.
#
# Usage: rtsp-server.py --clip FILE [--clip FILE2 ...] [--port N] [--host 127.0.0.1] [--mount /cam] [--copies N]
#                       [--once | --live]
#   --port 0 (default) binds a free port; the port actually bound is the one printed after READY.
#   --copies N serves N mounts MOUNT1..MOUNTN (for the bench); without it, just MOUNT. With several
#   --clip, mount i plays clip number i (the list repeats over the mounts).
#   --once: each mount plays to one client only, then answers 404 (a camera that reconnects at the
#   end of the clip does not replay it: "play the clip once" acceptance tests).
#   --live: each mount is one live camera: its clip's clock starts at the first client's PLAY, and a
#   later client (a reconnect, another instance taking the camera over) starts at the clock's
#   position (from the keyframe before it), as with a real camera. The mount is removed when the
#   clip has played (no replay).
# Otherwise every client gets its own pipeline (not shared), so each connection plays the clip from
# its first frame at real-time rate; at the end of the clip the stream simply stops sending.
# Needs Debian's python3-gi and gir1.2-gst-rtsp-server-1.0; run with /usr/bin/python3.
import argparse
import os
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="serve a clip over RTSP for tests")
    ap.add_argument("--clip", required=True, action="append", help="H.264 MP4 file to serve (repeatable)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mount", default="/cam")
    ap.add_argument("--copies", type=int, default=0)
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--live", action="store_true")
    a = ap.parse_args()
    if a.once and a.live:
        print("rtsp-server: --once and --live exclude each other", file=sys.stderr)
        return 2

    for c in a.clip:
        if not os.path.isfile(c):
            print(f"rtsp-server: no such clip: {c}", file=sys.stderr)
            return 2
    if not a.mount.startswith("/") or a.copies < 0 or a.copies > 1024 or not 0 <= a.port < 65536:
        print("rtsp-server: bad --mount/--copies/--port", file=sys.stderr)
        return 2

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(a.host)
    server.set_service(str(a.port))
    mounts = server.get_mount_points()
    # The launch line from DESIGN.md §6; location is quoted for paths with spaces.
    def launch(clip):
        clip = clip.replace("\\", "\\\\").replace('"', '\\"')
        return (f'( filesrc location="{clip}" ! qtdemux name=demux ! h264parse config-interval=-1 '
                f'! rtph264pay name=pay0 pt=96 )')
    names = [a.mount] if a.copies == 0 else [f"{a.mount}{i}" for i in range(1, a.copies + 1)]
    played = set()

    def play_once(_factory, media, name):
        # Remove the mount when this client's media starts playing: earlier, its own SETUP
        # would no longer find the mount.
        def on_state(_media, state):
            if state == Gst.State.PLAYING and name not in played:
                played.add(name)
                mounts.remove_factory(name)
                print(f"rtsp-server: {name} is playing once; mount removed", file=sys.stderr)
        media.connect("new-state", on_state)

    started = {}  # --live: mount -> monotonic time of its first PLAY

    def play_live(_factory, media, name):
        # The first client's PLAY starts the camera's clock; the mount goes once the clip has played.
        def join(_media, state):
            # a later client's own pipeline: to the clip's current position once it plays
            if state != Gst.State.PLAYING or joined:
                return
            joined.append(True)

            # Seek from the main loop, not here: the media emits new-state under its own lock,
            # which a flushing seek from inside the signal can deadlock against (and with it
            # every later RTSP request to this server).
            def seek():
                pos = time.monotonic() - started[name]
                demux = media.get_element().get_by_name("demux")
                flags = Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT
                if not demux or not demux.seek_simple(Gst.Format.TIME, flags, int(pos * Gst.SECOND)):
                    print(f"rtsp-server: {name}: could not join at {pos:.1f} s", file=sys.stderr)
                return False
            GLib.idle_add(seek)

        def on_state(_media, state):
            if state != Gst.State.PLAYING or name in started:
                return
            started[name] = time.monotonic()
            ok, dur = media.get_element().query_duration(Gst.Format.TIME)
            if not ok or dur <= 0:
                print(f"rtsp-server: {name}: clip duration unknown; the mount stays", file=sys.stderr)
                return

            def remove():
                mounts.remove_factory(name)
                print(f"rtsp-server: {name} played its clip; mount removed", file=sys.stderr)
                return False
            GLib.timeout_add(dur // Gst.MSECOND, remove)
        joined = []
        media.connect("new-state", join if name in started else on_state)

    for i, name in enumerate(names):
        f = GstRtspServer.RTSPMediaFactory()
        f.set_launch(launch(a.clip[i % len(a.clip)]))
        f.set_shared(False)
        if a.once:
            f.connect("media-configure", play_once, name)
        if a.live:
            f.connect("media-configure", play_live, name)
        mounts.add_factory(name, f)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"rtsp-server: cannot listen on {a.host}:{a.port}", file=sys.stderr)
        return 1
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
