"""``workbench prompts export DIR [--all-versions]`` and ``workbench prompts import DIR``."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``prompts`` command group."""
    parser = subparsers.add_parser("prompts", help="export/import prompts as YAML files")
    sub = parser.add_subparsers(dest="prompts_command", required=True)
    export = sub.add_parser("export", help="write one YAML file per prompt and snippet into DIR")
    export.add_argument("dir", help="target directory (created if missing)")
    export.add_argument(
        "--all-versions",
        action="store_true",
        help="every version (default: the newest and every labelled version)",
    )
    export.set_defaults(handler=_export)
    imp = sub.add_parser("import", help="import a directory written by export (idempotent)")
    imp.add_argument("dir", help="directory of *.yaml files")
    imp.set_defaults(handler=_import)
    ls = sub.add_parser("list", help="list prompts with their newest version and labels")
    ls.add_argument("--search", default=None)
    ls.set_defaults(handler=_list)


def _export(args: argparse.Namespace) -> int:
    from core.cli import database, workspace_id
    from core.prompts.files import export_prompts

    db = database()
    report = export_prompts(db, workspace_id(db), args.dir, all_versions=args.all_versions)
    print(f"exported {report.prompts} prompts and {report.snippets} snippets to {args.dir}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from core.cli import actor, database, workspace_id
    from core.prompts.files import import_prompts

    db = database()
    report = import_prompts(db, workspace_id(db), args.dir, actor=actor())
    for title, names in (
        ("created", report.created),
        ("updated", report.updated),
        ("skipped", report.skipped),
    ):
        for name in names:
            print(f"{title}\t{name}")
    for line in report.details:
        print(f"  {line}")
    print(report.summary())
    return 0


def _list(args: argparse.Namespace) -> int:
    from core.cli import database, workspace_id
    from core.prompts.registry import list_prompts

    db = database()
    for p in list_prompts(db, workspace_id(db), search=args.search):
        labels = ", ".join(f"{k}={v}" for k, v in p.labels.items())
        folder = f"{p.folder_path}/" if p.folder_path else ""
        print(f"{folder}{p.name}\tv{p.latest_version}\t{labels}")
    return 0
