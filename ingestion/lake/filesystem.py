"""The lake's filesystem: an fsspec filesystem and root path built from the lake URL by dlt.

dlt's ``filesystem`` destination configuration does the resolving, so a local folder,
``file://``, ``memory://`` and ``s3://bucket/prefix`` all work with the same code, and object
store credentials come from where dlt always reads them: the environment or
``.dlt/secrets.toml``, under ``destination.filesystem.credentials``. (s3 needs s3fs, which
dlt's ``filesystem`` extra installs.)
"""

from __future__ import annotations

from dataclasses import dataclass

from dlt.common.configuration import resolve_configuration
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.common.storages.fsspec_filesystem import AbstractFileSystem, fsspec_from_config

DLT_SECTIONS = ("destination", "filesystem")
"""dlt's config sections of its filesystem destination: where its credentials are read."""


@dataclass(frozen=True)
class Lake:
    """The lake's filesystem and the path of its root in it."""

    url: str
    filesystem: AbstractFileSystem
    root: str


def open_lake(url: str) -> Lake:
    """The lake at ``url`` (a folder or an fsspec URL), with dlt's credentials for it."""
    config = resolve_configuration(FilesystemConfiguration(bucket_url=url), sections=DLT_SECTIONS)
    filesystem, root = fsspec_from_config(config)
    return Lake(url=url, filesystem=filesystem, root=root.rstrip("/"))
