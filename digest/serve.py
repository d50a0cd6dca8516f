"""`digest serve`: build into a temporary folder, serve it on 127.0.0.1, rebuild on every
save and reload open pages; a failed build shows its diagnostics over the page while the
last good build stays served. Nothing is written to site/."""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from digest.build import build, prepare_twin
from digest.collector import collect_frozen
from digest.config import Config, load_config
from digest.errors import Diagnostic, DigestError, UsageError
from digest.model import Selection
from digest.state import KeptState

EVENTS_PATH = "/__digest/events"
# Injected into served pages only (never into built files): reload on a new build, show
# build errors over the page. textContent keeps diagnostics from being read as markup.
CLIENT = """<script>(() => {
  const overlay = document.createElement("pre");
  overlay.id = "digest-error-overlay";
  overlay.setAttribute("role", "alert");
  overlay.style.cssText = "position:fixed;inset:0 0 auto 0;z-index:99999;margin:0;" +
    "padding:1rem;max-height:60vh;overflow:auto;background:#7a0000;color:#fff;" +
    "font:14px/1.4 ui-monospace,monospace;white-space:pre-wrap";
  let seen = null;
  const events = new EventSource("__EVENTS__");
  events.onmessage = (event) => {
    const state = JSON.parse(event.data);
    if (seen === null) { seen = state.generation; }
    if (state.error) {
      overlay.textContent = "digest: the build failed\\n\\n" + state.error;
      document.body.append(overlay);
    } else if (state.generation !== seen) {
      location.reload();
    }
  };
})();</script>""".replace("__EVENTS__", EVENTS_PATH)


@dataclass(frozen=True)
class BuildState:
    generation: int  # bumps on every successful build
    error: str  # diagnostics of the last build if it failed, else ""


class LiveSite:
    """The folder being served, its latest build state, and the clients waiting on it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state = BuildState(0, "")
        self.changed = threading.Condition()
        self.stopping = threading.Event()

    def publish(self, state: BuildState) -> None:
        with self.changed:
            self.state = state
            self.changed.notify_all()


def make_handler(site: LiveSite) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site.folder), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.respond(head=False)

        def do_HEAD(self) -> None:
            self.respond(head=True)

        def respond(self, head: bool) -> None:
            """GET and HEAD alike (same headers, same Content-Length); HEAD sends no body."""
            self.head_only = head
            path = unquote(urlsplit(self.path).path)
            segments = path.split("/")
            if ".." in segments or "\\" in path or "\0" in path:
                self.send_error(403, "paths with '..', backslashes or NUL are refused")
                return
            if any(len(segment.encode()) > 255 for segment in segments):
                self.send_error(404)
                return
            if path == EVENTS_PATH and not head:
                self.stream_events()
                return
            try:
                target = Path(self.translate_path(self.path))
                if target.is_dir() and path.endswith("/"):
                    target = target / "index.html"
                if target.suffix == ".html" and target.is_file():
                    self.send_page(target)
                    return
            except (OSError, ValueError):
                self.send_error(404)
                return
            if head:
                super().do_HEAD()
            else:
                super().do_GET()

        def send_page(self, target: Path) -> None:
            html = target.read_text(encoding="utf-8")
            body = (html.replace("</body>", CLIENT + "</body>", 1) if "</body>" in html
                    else html + CLIENT).encode("utf-8")
            self.send_response(404 if target.name == "404.html" and target != Path(
                self.translate_path(self.path)) else 200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not getattr(self, "head_only", False):
                self.wfile.write(body)

        def send_error(self, code: int, message: str | None = None,
                       explain: str | None = None) -> None:
            missing = site.folder / "404.html"
            if code == 404 and missing.is_file():
                self.send_page(missing)
                return
            super().send_error(code, message, explain)

        def stream_events(self) -> None:
            """Server-sent events: the state now, then on every change until shutdown."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            last: BuildState | None = None
            try:
                while not site.stopping.is_set():
                    with site.changed:
                        if site.state == last:
                            site.changed.wait(timeout=15)
                        state = site.state
                    if state != last:
                        payload = json.dumps({"generation": state.generation,
                                              "error": state.error})
                        self.wfile.write(f"data: {payload}\n\n".encode())
                        last = state
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def watched_paths(config: Config) -> list[Path]:
    paths = [config.content_path, config.root / "pyproject.toml"]
    if config.templates_path.is_dir():
        paths.append(config.templates_path)
    return [p for p in paths if p.exists()]


def serve(root: Path, port: int, selection: Selection,
          report: Callable[[str], None], ready: Callable[[str], None]) -> None:
    """Run until interrupted (Ctrl-C): build, serve, watch, rebuild."""
    from watchfiles import watch  # imported here: only `serve` needs it

    seed = load_config(root)
    # Bound first: a port in use is reported as such, and nothing is left in /tmp.
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), SimpleHTTPRequestHandler)
    except OSError as error:
        raise UsageError([Diagnostic(f"--port {port}", 0, 0,
                                     f"cannot listen on 127.0.0.1:{port}: {error.strerror}",
                                     hint="choose another port, or --port 0 for any free "
                                          "one")]) from None
    scratch = Path(tempfile.mkdtemp(prefix="digest-serve-"))
    site = LiveSite(scratch / "site")
    site.folder.mkdir()
    server.RequestHandlerClass = make_handler(site)
    server.daemon_threads = True
    address = f"http://127.0.0.1:{server.server_address[1]}/"
    kept = KeptState(seed=seed)  # rebuilds keep their state in memory

    def rebuild() -> None:
        try:
            config = replace(load_config(root, {"base_url": address}),
                             output_dir=str(site.folder))
            result = build(config, selection=selection, kept=kept)
            site.publish(BuildState(site.state.generation + 1, ""))
            report(f"built {result.files} files in {result.seconds:.2f} s "
                   f"({len(result.rendered)} of {sum(result.pages.values())} pages rendered)")
        except DigestError as error:
            text = "\n".join(d.format() for d in error.diagnostics)
            site.publish(BuildState(site.state.generation, text))
            report(text)
        except (OSError, ValueError) as error:  # one bad save must not end the server
            text = f"error: the build failed: {error}"
            site.publish(BuildState(site.state.generation, text))
            report(text)

    # SIGTERM (a closed terminal, a process manager) stops as Ctrl-C does: the
    # temporary folder is removed on the way out.
    previous_handler = signal.signal(signal.SIGTERM, stop_on_signal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        rebuild()
        thread.start()
        ready(address)
        config = load_config(root)
        # Every second without changes, the memory of replaced builds is freed (a
        # full collection takes ~0.7 s at 10,000 articles) and a first build gets its
        # twin: never between a save and the page showing it.
        for changes in watch(*watched_paths(config), debounce=150, step=50,
                             stop_event=site.stopping, raise_interrupt=True,
                             rust_timeout=1000, yield_on_timeout=True):
            if changes:
                rebuild()
            else:
                collect_frozen()
                prepare_twin(site.folder, kept)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        site.stopping.set()
        site.publish(site.state)
        if thread.is_alive():  # shutdown() waits for serve_forever, which may not have run
            server.shutdown()
        server.server_close()
        shutil.rmtree(scratch, ignore_errors=True)


def stop_on_signal(number: int, frame: object) -> None:
    raise KeyboardInterrupt
