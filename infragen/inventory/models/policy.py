"""Seed 003's port policy: reserved ranges, layers, blocks and role offsets."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from infragen.inventory.models.base import PortRange, Severity, Strict


class ReservedRange(Strict):
    range: PortRange
    reason: str
    severity: Severity = "error"


class Layer(Strict):
    range: PortRange
    description: str | None = None


class PortPolicy(Strict):
    """Seed 003's allocation scheme: reserved ranges, layers, blocks and role offsets."""

    reserved: list[ReservedRange] = Field(default_factory=list)
    layers: dict[str, Layer] = Field(default_factory=dict)
    block_size: int = Field(default=100, gt=0)
    offsets: dict[str, tuple[int, int]] = Field(default_factory=dict)
    fallback_offset: int | None = Field(default=None, gt=0)
    redis_max_db: int = Field(default=15, ge=0)

    @field_validator("offsets", mode="before")
    @classmethod
    def _offset_ranges(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        parsed: dict[str, Any] = {}
        for role, offset in value.items():
            if isinstance(offset, int):
                parsed[role] = (offset, offset)
            elif isinstance(offset, str) and re.fullmatch(r"\d+-\d+", offset):
                first, last = offset.split("-")
                parsed[role] = (int(first), int(last))
            else:
                parsed[role] = offset
        return parsed
