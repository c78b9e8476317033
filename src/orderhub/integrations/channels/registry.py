"""The channels OrderHub knows: every package under integrations/channels/ that exports CHANNEL.

Adding a channel is adding one package (client, signing, mapping.yaml, simulator) that sets
`CHANNEL = ChannelSpec(...)` in its `__init__`; nothing else is edited.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from orderhub.domain.mapping import MappingError, check_mapping
from orderhub.integrations.channels.simkit import Faults
from orderhub.services.ports import ChannelClient


@dataclass(frozen=True)
class ShopConnection:
    """What a client needs to talk to one shop's channel (credentials decrypted by the caller)."""

    shop: str
    base_url: str
    app_key: str = ""
    app_secret: str = ""
    access_token: str = ""
    timeout_s: float = 10.0
    max_attempts: int = 5
    # The channel's per-shop call limit; the client paces itself below it.
    rate_per_s: float = 20.0
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SimulatorOptions:
    app_key: str = "sim-app-key"
    app_secret: str = "sim-app-secret"
    access_token: str = "sim-access-token"
    seed: int = 7
    faults: Faults = field(default_factory=Faults)
    # Where a push channel sends its webhooks (None: it does not push).
    webhook_url: str | None = None


@dataclass(frozen=True)
class WebhookSpec:
    """A push channel's webhook: how to check it is genuine, and what it carries."""

    # verify(headers, raw body, shop secret) -> None when genuine, else the reason it is not.
    verify: Callable[[Mapping[str, str], bytes, str], str | None]
    # The order payloads in the body (full orders, as the pull would give them).
    payloads: Callable[[bytes], list[dict[str, Any]]]


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    title: str
    mapping_file: Path
    make_client: Callable[[ShopConnection], ChannelClient]
    make_simulator: Callable[[SimulatorOptions], FastAPI]
    webhook: WebhookSpec | None = None


@cache
def channels() -> dict[str, ChannelSpec]:
    found: dict[str, ChannelSpec] = {}
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not module.ispkg:
            continue
        package = importlib.import_module(f"{__package__}.{module.name}")
        spec = getattr(package, "CHANNEL", None)
        if isinstance(spec, ChannelSpec):
            found[spec.name] = spec
    return found


def channel(name: str) -> ChannelSpec:
    known = channels()
    if name not in known:
        raise KeyError(f"channel '{name}' is not known; known: {', '.join(sorted(known))}")
    return known[name]


def merge_mapping(base: dict[str, Any], extension: Mapping[str, Any]) -> dict[str, Any]:
    """A merchant's extension over a packaged mapping, key by key (nested dicts merge)."""
    merged = dict(base)
    for key, value in extension.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge_mapping(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_mapping(spec: ChannelSpec, extension_dir: Path | None = None) -> dict[str, Any]:
    """The channel's mapping, extended by `<extension_dir>/<channel>.yaml` when that exists."""
    mapping: dict[str, Any] = yaml.safe_load(spec.mapping_file.read_text(encoding="utf-8"))
    if extension_dir is not None:
        extra = extension_dir / f"{spec.name}.yaml"
        if extra.exists():
            mapping = merge_mapping(
                mapping, yaml.safe_load(extra.read_text(encoding="utf-8")) or {}
            )
    try:
        check_mapping(mapping)
    except MappingError as error:
        raise MappingError(f"{spec.name} mapping: {error}") from None
    return mapping
