"""The JSON Schema (draft 2020-12) of each document shmtop prints, generated from its Structs.

`shmtop schema NAME` prints schema_text(NAME); schema/NAME.json in the repository is the same
text, committed so the README can link it (`make schema` writes them, a test compares).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import msgspec

from shmtop.text.documents import SCHEMA_VERSION, LimitsDocument, ShowDocument
from shmtop.text.list_all_documents import ListAllDocument
from shmtop.text.mqueue_documents import PmqListDocument
from shmtop.text.posix_documents import PosixListDocument
from shmtop.text.posix_show_documents import PmqShowDocument, PosixShowDocument
from shmtop.text.wait_documents import QueueMessagesDocument, WaitersDocument

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class Document(NamedTuple):
    """A document: the command that prints it and its type."""

    command: str
    type: Any  # a Struct, or a union of Structs tagged by "kind"


DOCUMENTS: dict[str, Document] = {
    "list": Document("shmtop list --json (and each line of --watch)", ListAllDocument),
    "show": Document("shmtop show shm|sem|msg ID --json", ShowDocument),
    "show-messages": Document("shmtop show msg ID --messages --json", QueueMessagesDocument),
    "waiters": Document("shmtop waiters --json", WaitersDocument),
    "limits": Document("shmtop limits --json", LimitsDocument),
    "posix-list": Document("shmtop list pshm|psem --json", PosixListDocument),
    "pmq-list": Document("shmtop list pmq --json", PmqListDocument),
    "posix-show": Document("shmtop show pshm|psem --name NAME --json", PosixShowDocument),
    "pmq-show": Document("shmtop show pmq --name NAME --json", PmqShowDocument),
}


def schema(name: str) -> dict[str, Any]:
    """The schema of one document (KeyError for an unknown name)."""
    document = DOCUMENTS[name]
    generated = msgspec.json.schema(document.type)
    # OpenAPI's keyword, which 2020-12 does not know: each branch's "kind" enum says as much.
    generated.pop("discriminator", None)
    return {
        "$schema": DIALECT,
        "title": document.command,
        "description": f"shmtop's {name} document, schema_version {SCHEMA_VERSION}",
        **generated,
    }


def schema_text(name: str) -> str:
    """The schema as the committed files hold it: indented, in the Structs' order, a newline."""
    return json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n"


def catalogue() -> list[str]:
    """One line a document: its name and the command that prints it."""
    width = max(map(len, DOCUMENTS))
    return [f"{name:<{width}}  {doc.command}" for name, doc in DOCUMENTS.items()]
