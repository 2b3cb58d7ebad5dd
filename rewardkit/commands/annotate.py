"""``rewardkit annotate``: label preference pairs in the browser, export them, check agreement.

Three forms share one parser, told apart by the first positional argument, so options may come
in any order (``annotate --db x.sqlite samples.jsonl`` works too)::

    rewardkit annotate SAMPLES.jsonl --db labels.sqlite [--annotator NAME] [--port N] [--seed S]
    rewardkit annotate export --db labels.sqlite [-o pairs.jsonl] [--annotator NAME] [--with-meta]
    rewardkit annotate stats --db labels.sqlite [--json]

A samples file literally named ``export`` or ``stats`` is passed as ``./export``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys

from ..errors import ConfigError

USAGE = """rewardkit annotate SAMPLES.jsonl --db DB [--annotator NAME] [--port N] [--seed S]
       rewardkit annotate [SAMPLES.jsonl] --db DB          (resume; samples are in DB)
       rewardkit annotate export --db DB [-o PAIRS.jsonl] [--annotator NAME] [--with-meta]
       rewardkit annotate stats --db DB [--json]"""

ACTIONS = ("export", "stats")
# Options that belong to one form only: a wrong combination is a one-line error, not ignored.
_ONLY = {
    "output": ("-o/--output", {"export"}),
    "with_meta": ("--with-meta", {"export"}),
    "json": ("--json", {"stats"}),
    "port": ("--port", {"serve"}),
    "seed": ("--seed", {"serve"}),
    "pairs_per_prompt": ("--pairs-per-prompt", {"serve"}),
    "shared_order": ("--shared-order", {"serve"}),
    "open": ("--open", {"serve"}),
    "annotator": ("--annotator", {"serve", "export"}),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "annotate", usage=USAGE, help="label preference pairs in the browser; export them for rm train",
        description="Compare two completions of the same prompt in a local web page; labels go to SQLite "
                    "as you click. `export` writes TRL preference pairs (prompt, chosen, rejected); "
                    "`stats` prints agreement between annotators.",
    )
    p.add_argument("target", nargs="?", metavar="SAMPLES.jsonl|export|stats",
                   help="JSONL rows with 'prompt' and 'completion' (rows sharing a prompt are paired), "
                        "or the action export / stats")
    p.add_argument("--db", required=True, help="labels database (SQLite file; created on first use)")
    p.add_argument("--annotator", help="annotator name (serve: default your user name; export: only "
                                       "this annotator's labels)")
    p.add_argument("--port", type=_port, default=None, help="port on 127.0.0.1 (default 8765; 0 picks a free one)")
    p.add_argument("--seed", type=int, default=None, help="seed for pairing, queue order and sides (default 0)")
    p.add_argument("--pairs-per-prompt", type=_count, default=None,
                   help="random pairs drawn per prompt when the database is made (default 2; 0 = all)")
    p.add_argument("--shared-order", action="store_true",
                   help="every annotator gets the same queue order (maximal overlap for agreement)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.add_argument("-o", "--output", default=None, help="export: output JSONL (default standard output)")
    p.add_argument("--with-meta", action="store_true", help="export: add pair_id, annotators and reasons")
    p.add_argument("--json", action="store_true", help="stats: print JSON")
    p.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    form = args.target if args.target in ACTIONS else "serve"
    for attr, (flag, forms) in _ONLY.items():
        value = getattr(args, attr)
        if value not in (None, False) and form not in forms:
            where = " / ".join(f"`annotate {f}`" if f != "serve" else "`annotate SAMPLES.jsonl`" for f in sorted(forms))
            raise ConfigError(f"{flag} applies to {where} only")
    if form == "export":
        return _export(args)
    if form == "stats":
        return _stats(args)
    return _serve(args)


def _export(args: argparse.Namespace) -> int:
    from ..annotate.db import LabelDB
    from ..annotate.export import export

    db = LabelDB.open(args.db)
    try:
        counts = export(db, args.output, annotator=args.annotator, with_meta=args.with_meta)
    finally:
        db.close()
    where = f" to {args.output}" if args.output else ""
    print(f"rewardkit annotate: {counts.summary()}{where}", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from ..annotate.agreement import format_stats, stats
    from ..annotate.db import LabelDB

    db = LabelDB.open(args.db)
    try:
        data = stats(db)
    finally:
        db.close()
    print(json.dumps(data, indent=2) if args.json else format_stats(data))
    return 0


def _default_annotator() -> str:
    try:
        return getpass.getuser() or "annotator"
    except (KeyError, OSError, ImportError):  # no user name in a bare container: any stable name will do
        return "annotator"


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..annotate.app import annotator_name, create_app
    except ImportError as e:
        raise ConfigError(
            f"rewardkit annotate needs a web server ({e.name} is not installed): pip install 'rewardkit[serve]'"
        ) from None
    from ..annotate.db import LabelDB

    try:
        annotator = annotator_name(args.annotator if args.annotator is not None else _default_annotator())
    except ValueError as e:
        raise ConfigError(f"--annotator {args.annotator!r}: {e}") from None
    db = LabelDB.create_or_resume(args.db, args.target, seed=args.seed,
                                  pairs_per_prompt=2 if args.pairs_per_prompt is None else args.pairs_per_prompt)
    db.shared_order = args.shared_order
    port = 8765 if args.port is None else args.port
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as e:
        sock.close()
        db.close()
        raise ConfigError(f"--port {port}: cannot listen on 127.0.0.1 ({e.strerror}); "
                          "pick another with --port N (0 picks a free one)") from None
    port = sock.getsockname()[1]
    sock.listen(128)  # before the URL is printed: a browser opened at once is queued, not refused
    state = db.state(annotator)
    url = f"http://127.0.0.1:{port}/"
    print(f"rewardkit annotate: {state['total']} pairs in {args.db}; {annotator} has done {state['done']}",
          flush=True)
    print(f"rewardkit annotate: open {url}  (every click is saved; Ctrl-C stops)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    app = create_app(db, annotator, db_label=str(args.db))
    from ..serve.server import guarded_protocol

    # Idle and slow-loris connections are closed after 10 s, as in `rewardkit serve`.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=10,
                                           http=guarded_protocol(10.0)))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        db.close()
    return 0
