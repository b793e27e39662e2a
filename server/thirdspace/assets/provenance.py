"""Provenance: who or what made an asset, carried inside the glTF as a KHR_xmp_json_ld packet.

The packet is JSON-LD with XMP, Dublin Core and IPTC Extension properties, so any
XMP-aware tool reads the digital source type ("Made with AI" labels use it), plus
a few ``thirdspace:`` properties for the recipe, its parameters and seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from thirdspace import __version__

EXTENSION = "KHR_xmp_json_ld"
IPTC_DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
CONTEXT = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "thirdspace": "urn:thirdspace:provenance:1#",
}
# IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/); the first four are machine-made.
GENERATED_TYPES = ("algorithmicMedia", "trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic")
SOURCE_TYPES = (*GENERATED_TYPES, "digitalCapture", "digitalCreation", "compositeCapture", "minorHumanEdits")
RECIPE_GENERATOR = "thirdspace-recipes"


@dataclass
class Provenance:
    source_type: str  # an IPTC digital source type code, e.g. "algorithmicMedia"
    generator: str  # the program or service that made it
    generator_version: str
    made_by: str  # the person (or organisation) who made, requested or uploaded it
    made_at: str | None  # ISO 8601 UTC
    recipe: str | None = None
    params: dict[str, Any] | None = None
    seed: int | None = None
    prompt: str | None = None
    service: str | None = None  # the URL of an external generator
    title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def generated(self) -> bool:
        return self.source_type in GENERATED_TYPES

    def to_packet(self) -> dict[str, Any]:
        packet: dict[str, Any] = {
            "@context": CONTEXT,
            "@id": "",
            "Iptc4xmpExt:DigitalSourceType": IPTC_DIGITAL_SOURCE_TYPE + self.source_type,
            "xmp:CreatorTool": f"{self.generator} {self.generator_version}",
            "dc:creator": {"@list": [self.made_by]},
            "thirdspace:generator": self.generator,
            "thirdspace:generatorVersion": self.generator_version,
        }
        if self.made_at:
            packet["xmp:CreateDate"] = self.made_at
        if self.title:
            packet["dc:title"] = {"@type": "rdf:Alt", "rdf:_1": {"@language": "x-default", "@value": self.title}}
        for key, value in (("recipe", self.recipe), ("seed", self.seed), ("prompt", self.prompt), ("service", self.service)):
            if value is not None:
                packet[f"thirdspace:{key}"] = value
        if self.params is not None:
            packet["thirdspace:params"] = {"@type": "@json", "@value": self.params}
        for key, value in self.extra.items():
            packet[f"thirdspace:{key}"] = value
        if self.title:
            packet["@context"] = {**CONTEXT, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
        return packet

    @classmethod
    def from_packet(cls, packet: dict[str, Any]) -> Provenance | None:
        """Read a packet written here or by another tool; None when it declares no digital source type."""
        source = packet.get("Iptc4xmpExt:DigitalSourceType")
        if not isinstance(source, str):
            return None
        source_type = source.rsplit("/", 1)[-1]
        creators = packet.get("dc:creator", {})
        made_by = creators.get("@list", ["unknown"])[0] if isinstance(creators, dict) else str(creators)
        tool = str(packet.get("xmp:CreatorTool", "unknown"))
        params = packet.get("thirdspace:params")
        title = packet.get("dc:title")
        known = {"recipe", "seed", "prompt", "service", "params", "generator", "generatorVersion"}
        return cls(
            source_type=source_type,
            generator=str(packet.get("thirdspace:generator", tool)),
            generator_version=str(packet.get("thirdspace:generatorVersion", "")),
            made_by=str(made_by),
            made_at=packet.get("xmp:CreateDate"),
            recipe=packet.get("thirdspace:recipe"),
            params=params.get("@value") if isinstance(params, dict) else None,
            seed=packet.get("thirdspace:seed"),
            prompt=packet.get("thirdspace:prompt"),
            service=packet.get("thirdspace:service"),
            title=title.get("rdf:_1", {}).get("@value") if isinstance(title, dict) else None,
            extra={k.split(":", 1)[1]: v for k, v in packet.items() if k.startswith("thirdspace:") and k.split(":", 1)[1] not in known},
        )

    def summary(self) -> dict[str, Any]:
        """The plain-JSON view served by the API."""
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "extra"}
        out.update(self.extra)
        out["generated"] = self.generated
        out["digital_source_type"] = IPTC_DIGITAL_SOURCE_TYPE + self.source_type
        return out


def recipe_provenance(recipe: str, version: int, params: dict, seed: int, made_by: str, made_at: str | None) -> Provenance:
    return Provenance(
        source_type="algorithmicMedia",
        generator=RECIPE_GENERATOR,
        generator_version=f"{__version__}+{recipe}.{version}",
        made_by=made_by,
        made_at=made_at,
        recipe=recipe,
        params=params,
        seed=seed,
    )


def read_packet(document: dict) -> dict[str, Any] | None:
    """The packet the glTF asset points at, if any."""
    try:
        index = document["asset"]["extensions"][EXTENSION]["packet"]
        packet = document["extensions"][EXTENSION]["packets"][index]
    except (KeyError, IndexError, TypeError):
        return None
    return packet if isinstance(packet, dict) else None


def embed(document: dict, packet: dict[str, Any]) -> None:
    """Attach ``packet`` to the glTF asset, replacing an earlier asset packet."""
    extension = document.setdefault("extensions", {}).setdefault(EXTENSION, {"packets": []})
    packets = extension.setdefault("packets", [])
    index = document.get("asset", {}).get("extensions", {}).get(EXTENSION, {}).get("packet")
    if isinstance(index, int) and 0 <= index < len(packets):
        packets[index] = packet
    else:
        packets.append(packet)
        index = len(packets) - 1
    document.setdefault("asset", {"version": "2.0"}).setdefault("extensions", {})[EXTENSION] = {"packet": index}
    used = document.setdefault("extensionsUsed", [])
    if EXTENSION not in used:
        used.append(EXTENSION)
