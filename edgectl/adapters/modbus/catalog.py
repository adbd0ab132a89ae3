"""The meter-model catalogue the web adapter is given (by the supervisor).

The web adapter may not import this adapter, so it sees the register maps
only through this object (`edgectl.adapters.web.deps.MeterModels`): the
built-in models as documents, and the checks and serialisation of a custom
model. Custom models are stored by the web adapter (box settings, as model
documents); `custom_models()` turns the stored documents back into models for
the pollers at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
import tomli_w

from edgectl.adapters.modbus.models import (
    MeterModel,
    MeterModelError,
    builtin_models,
    model_to_dict,
    parse_model,
    validate_model,
)

log = structlog.get_logger(__name__)


class MeterModelCatalog:
    """Built-in models, and checking / dumping custom ones (TOML, docs/meters.md schema)."""

    def builtin(self) -> dict[str, dict[str, Any]]:
        return {model_id: model_to_dict(m) for model_id, m in builtin_models().items()}

    def check(self, text: str, origin: str) -> dict[str, Any]:
        """The custom model's document, normalised; `ValueError` naming the field when it is wrong."""
        return model_to_dict(parse_model(text, origin))

    def dump(self, doc: Mapping[str, Any]) -> str:
        return tomli_w.dumps(dict(doc))


def custom_models(docs: Mapping[str, Mapping[str, Any]]) -> dict[str, MeterModel]:
    """Stored custom-model documents -> models; a document that no longer checks is logged and left out."""
    out: dict[str, MeterModel] = {}
    for model_id, doc in docs.items():
        try:
            out[model_id] = validate_model(doc, origin=f"stored model {model_id}")
        except MeterModelError as exc:
            log.error("modbus.custom_model_invalid", model=model_id, error=str(exc))
    return out
