"""Nested folders of prompts, addressed by slash-separated paths such as ``support/en``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import Database
from core.db.models import Folder, Prompt
from core.prompts.errors import DuplicateNameError, FolderNotFoundError, ValidationError
from core.prompts.models import FolderInfo, check_name


def split_path(path: str) -> list[str]:
    """The checked components of a folder path; ``""``/``"/"`` is the root (no components)."""
    if not isinstance(path, str):
        raise ValidationError(f"folder path must be text, not {type(path).__name__}")
    parts = [p.strip() for p in path.strip().strip("/").split("/")]
    if parts == [""]:
        return []
    return [check_name(p, "folder") for p in parts]


def folder_paths(session: Session, workspace_id: int) -> dict[int, str]:
    """Folder id -> full path for every folder of the workspace."""
    rows = session.execute(
        select(Folder.id, Folder.parent_id, Folder.name).where(Folder.workspace_id == workspace_id)
    ).tuples()
    parent = {fid: (pid, name) for fid, pid, name in rows}
    paths: dict[int, str] = {}

    def path_of(fid: int, depth: int = 0) -> str:
        if fid in paths:
            return paths[fid]
        pid, name = parent[fid]
        # depth bound: a corrupt parent loop must not recurse forever
        result = name if pid is None or depth > 64 else f"{path_of(pid, depth + 1)}/{name}"
        paths[fid] = result
        return result

    for fid in parent:
        path_of(fid)
    return paths


def _child(session: Session, workspace_id: int, parent_id: int | None, name: str) -> Folder | None:
    # parent_id IS NULL needs its own comparison (NULL = NULL is not true in SQL).
    cond = Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id
    return session.scalar(
        select(Folder).where(Folder.workspace_id == workspace_id, Folder.name == name, cond)
    )


def resolve_folder(
    session: Session, workspace_id: int, path: str | None, *, create: bool = False
) -> Folder | None:
    """The folder at ``path`` (None for the root), optionally creating missing parts."""
    if path is None:
        return None
    parts = split_path(path)
    folder: Folder | None = None
    for i, name in enumerate(parts):
        found = _child(session, workspace_id, folder.id if folder else None, name)
        if found is None:
            if not create:
                raise FolderNotFoundError(f"no folder {'/'.join(parts[: i + 1])!r}")
            found = Folder(
                workspace_id=workspace_id, parent_id=folder.id if folder else None, name=name
            )
            session.add(found)
            session.flush()
        folder = found
    return folder


def _info(session: Session, workspace_id: int, folder: Folder) -> FolderInfo:
    return FolderInfo(
        id=folder.id,
        name=folder.name,
        parent_id=folder.parent_id,
        path=folder_paths(session, workspace_id)[folder.id],
    )


def create_folder(db: Database, workspace_id: int, path: str) -> FolderInfo:
    """Create the folder at ``path`` (and missing parents); DuplicateNameError if it exists."""
    parts = split_path(path)
    if not parts:
        raise ValidationError("a folder needs a name")
    with db.session() as s:
        parent = resolve_folder(s, workspace_id, "/".join(parts[:-1]), create=True)
        if _child(s, workspace_id, parent.id if parent else None, parts[-1]) is not None:
            raise DuplicateNameError(f"folder {'/'.join(parts)!r} already exists")
        folder = resolve_folder(s, workspace_id, "/".join(parts), create=True)
        assert folder is not None
        return _info(s, workspace_id, folder)


def list_folders(db: Database, workspace_id: int) -> list[FolderInfo]:
    """Every folder with its path, sorted by path so parents come before children."""
    with db.read_session() as s:
        paths = folder_paths(s, workspace_id)
        rows = s.scalars(select(Folder).where(Folder.workspace_id == workspace_id))
        infos = [FolderInfo(f.id, f.name, f.parent_id, paths[f.id]) for f in rows]
    return sorted(infos, key=lambda f: f.path.lower())


def rename_folder(db: Database, workspace_id: int, path: str, new_name: str) -> FolderInfo:
    """Rename the last component of ``path``; its prompts and subfolders move with it."""
    new_name = check_name(new_name, "folder")
    with db.session() as s:
        folder = resolve_folder(s, workspace_id, path)
        if folder is None:
            raise ValidationError("the root folder can't be renamed")
        clash = _child(s, workspace_id, folder.parent_id, new_name)
        if clash is not None and clash.id != folder.id:
            raise DuplicateNameError(f"a folder named {new_name!r} already exists there")
        folder.name = new_name
        s.flush()
        return _info(s, workspace_id, folder)


def move_folder(db: Database, workspace_id: int, path: str, new_parent: str | None) -> FolderInfo:
    """Move the folder at ``path`` under ``new_parent`` (None: the root)."""
    with db.session() as s:
        folder = resolve_folder(s, workspace_id, path)
        if folder is None:
            raise ValidationError("the root folder can't be moved")
        target = resolve_folder(s, workspace_id, new_parent)
        paths = folder_paths(s, workspace_id)
        if target is not None and (
            target.id == folder.id or paths[target.id].startswith(paths[folder.id] + "/")
        ):
            raise ValidationError(f"can't move folder {paths[folder.id]!r} into itself")
        target_id = target.id if target else None
        clash = _child(s, workspace_id, target_id, folder.name)
        if clash is not None and clash.id != folder.id:
            raise DuplicateNameError(f"a folder named {folder.name!r} already exists there")
        folder.parent_id = target_id
        s.flush()
        return _info(s, workspace_id, folder)


def delete_folder(db: Database, workspace_id: int, path: str) -> None:
    """Delete an empty folder; refuse one that still holds prompts or folders."""
    with db.session() as s:
        folder = resolve_folder(s, workspace_id, path)
        if folder is None:
            raise ValidationError("the root folder can't be deleted")
        prompts = s.scalar(select(func.count()).where(Prompt.folder_id == folder.id)) or 0
        children = s.scalar(select(func.count()).where(Folder.parent_id == folder.id)) or 0
        if prompts or children:
            raise ValidationError(
                f"folder {path!r} is not empty ({prompts} prompts, {children} folders): "
                "move or archive them first"
            )
        s.delete(folder)
