"""What a file says about itself: who made it, whether it was made by AI, whether its maker forbids AI training.

Read on every upload and remake input (bot/core/ownership.py), from the raw bytes, before anything is stored:
- **C2PA** (c2pa-python, offline: no remote manifest nor OCSP fetch): the signer, the creator assertion
  (`stds.schema-org.CreativeWork` author names), the training-and-data-mining assertion (`c2pa.training-mining` /
  `cawg.training-mining` entries whose `use` is `notAllowed`) and `c2pa.created`/`c2pa.opened` actions whose
  `digitalSourceType` says the picture came out of a trained model;
- **XMP** (IPTC Photo Metadata in XMP): `dc:creator`, `photoshop:Credit`, `plus:DataMining` (the PLUS Data Mining
  vocabulary: any `DMI-PROHIBITED*` value), `Iptc4xmpExt:DigitalSourceType`;
- **IPTC IIM** (the JPEG APP13 record): By-line (2:80) and Credit (2:110);
- **EXIF**: Artist (0x013B) and Copyright (0x8298).

`judge` turns that into a verdict for one uploader: a file that forbids AI training, or names a creator who is
none of the uploader's linked identities, is refused with a reason a person can read (a moderator can allow the
file); a creator that matches is supporting evidence; for training, a file marked as AI-generated (our own outputs
carry IPTC `trainedAlgorithmicMedia` in XMP and C2PA) is refused too, so generated images never become training
data. Anyone can write XMP, IPTC and EXIF, so they only ever refuse or support, never prove ownership: the
portfolio match and the registry still decide that. A C2PA manifest whose signature fails (`Invalid`) still
refuses (someone stated the wish; removing it takes more than breaking the signature), but its creator is not
shown as support.

Sources: IPTC Photo Metadata Standard 2023.1 (Data Mining, Digital Source Type;
https://www.iptc.org/std/photometadata/specification/IPTC-PhotoMetadata), PLUS LDF data mining vocabulary
(https://ns.useplus.org/LDF/ldf-XMPSpecification#DataMining), C2PA 2.1 training-and-data-mining assertion and
CAWG training-mining (https://cawg.io/training-and-data-mining/), EXIF 2.32 tags 0x013B and 0x8298.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Iterable
from xml.etree import ElementTree as ET

from PIL import Image, IptcImagePlugin

from data.embedded import c2pa_store, xmp_packet
from data.media import sniff

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
}
_CREATOR_TAGS = {f"{{{_NS['dc']}}}creator": "XMP dc:creator", f"{{{_NS['photoshop']}}}Credit": "XMP photoshop:Credit"}
_MINING_TAG = f"{{{_NS['plus']}}}DataMining"
_SOURCE_TYPE_TAG = f"{{{_NS['Iptc4xmpExt']}}}DigitalSourceType"
# IPTC digital source types of pictures made by a trained model (the "compositeWithTrainedAlgorithmicMedia" and
# "algorithmicMedia" kinds are not model output of a whole picture; a person may still have drawn most of it)
GENERATED_TYPES = ("trainedAlgorithmicMedia", "compositeSynthetic")
MINING_LABELS = ("c2pa.training-mining", "cawg.training-mining")
TRAINING_ENTRIES = ("ai_training", "ai_generative_training", "data_mining")  # after "c2pa." or "cawg."
EXIF_ARTIST, EXIF_COPYRIGHT = 0x013B, 0x8298


@dataclass(frozen=True)
class Signal:
    source: str  # where it was read, e.g. "XMP plus:DataMining", "C2PA (signed by …)"
    value: str


@dataclass
class FileProvenance:
    creators: list[Signal] = field(default_factory=list)
    no_training: list[Signal] = field(default_factory=list)
    generated: list[Signal] = field(default_factory=list)
    c2pa: bool = False  # a manifest store was found (valid or not)
    c2pa_signer: str = ""
    c2pa_valid: bool = False

    @property
    def empty(self) -> bool:
        return not (self.creators or self.no_training or self.generated)


@dataclass(frozen=True)
class ProvenanceVerdict:
    allowed: bool
    key: str = ""  # a bot.i18n message key with `params`; "" when there is nothing to say
    params: dict = field(default_factory=dict)
    reason: str = ""  # the same in English, for logs and moderators


# --- reading ---------------------------------------------------------------------------------------------------

def read_provenance(data: bytes) -> FileProvenance:
    """Everything the file says about itself; nothing raises (an unreadable part is simply absent)."""
    found = FileProvenance()
    _read_c2pa(data, found)
    _read_xmp(data, found)
    _read_embedded(data, found)
    return found


def _read_c2pa(data: bytes, found: FileProvenance) -> None:
    kind = sniff(data)
    if kind is None:
        return
    store = c2pa_store(data, kind.mime)
    if store is None:
        return
    manifest, state = store["manifest"] or {}, store["validation_state"]
    found.c2pa, found.c2pa_valid = True, str(state) != "Invalid"
    signature = manifest.get("signature_info") or {}
    found.c2pa_signer = str(signature.get("issuer") or signature.get("common_name") or "")
    where = f"C2PA (signed by {found.c2pa_signer})" if found.c2pa_signer else "C2PA"
    for assertion in manifest.get("assertions") or []:
        label, body = str(assertion.get("label", "")), assertion.get("data") or {}
        if not isinstance(body, dict):
            continue
        if label.startswith("stds.schema-org.CreativeWork"):
            authors = body.get("author") or []
            for author in authors if isinstance(authors, list) else [authors]:
                name = author.get("name") if isinstance(author, dict) else author
                if name and found.c2pa_valid:
                    found.creators.append(Signal(f"{where} creator", str(name)))
        elif label.split(".v")[0] in MINING_LABELS:
            for entry, rule in (body.get("entries") or {}).items():
                use = rule.get("use") if isinstance(rule, dict) else None
                if use == "notAllowed" and entry.split(".", 1)[-1] in TRAINING_ENTRIES:
                    found.no_training.append(Signal(f"{where} {label}", f"{entry}: notAllowed"))
        elif label.startswith("c2pa.actions"):
            for action in body.get("actions") or []:
                source = str(action.get("digitalSourceType", "")) if isinstance(action, dict) else ""
                if action.get("action") in ("c2pa.created", "c2pa.opened") and source.rsplit("/", 1)[-1] in \
                        GENERATED_TYPES:
                    found.generated.append(Signal(f"{where} {action.get('action')}", source.rsplit("/", 1)[-1]))


def _texts(element: ET.Element) -> list[str]:
    """A property's values: rdf:Seq/Bag/Alt items, an rdf:resource, or its own text."""
    items = [li.text or li.get(f"{{{_NS['rdf']}}}resource") or "" for li in element.iter(f"{{{_NS['rdf']}}}li")]
    own = element.get(f"{{{_NS['rdf']}}}resource") or element.text or ""
    return [v.strip() for v in (items or [own]) if v and v.strip()]


def _read_xmp(data: bytes, found: FileProvenance) -> None:
    packet = xmp_packet(data)
    if packet is None:
        return
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        values = [(tag, [v]) for tag, v in desc.attrib.items()]  # simple properties may be attributes
        values += [(child.tag, _texts(child)) for child in desc]
        for tag, texts in values:
            for text in texts:
                if tag in _CREATOR_TAGS:
                    found.creators.append(Signal(_CREATOR_TAGS[tag], text))
                elif tag == _MINING_TAG and "DMI-PROHIBITED" in text.upper():
                    found.no_training.append(Signal("XMP plus:DataMining", text.rsplit("/", 1)[-1]))
                elif tag == _SOURCE_TYPE_TAG and text.rsplit("/", 1)[-1] in GENERATED_TYPES:
                    found.generated.append(Signal("XMP Iptc4xmpExt:DigitalSourceType", text.rsplit("/", 1)[-1]))


def _read_embedded(data: bytes, found: FileProvenance) -> None:
    """EXIF Artist/Copyright and the IPTC IIM By-line/Credit, from the headers (no pixels are decoded)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            for tag, name in ((EXIF_ARTIST, "EXIF Artist"), (EXIF_COPYRIGHT, "EXIF Copyright")):
                value = exif.get(tag)
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                if value and str(value).strip("\x00 "):
                    found.creators.append(Signal(name, str(value).strip("\x00 ")))
            iptc = IptcImagePlugin.getiptcinfo(image) or {}
    except Exception:  # noqa: BLE001 - a damaged header: the image checks give the reason, not this reader
        return
    for key, name in (((2, 80), "IPTC By-line"), ((2, 110), "IPTC Credit")):
        raw = iptc.get(key)
        for value in raw if isinstance(raw, list) else [raw]:
            if value:
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                if text.strip():
                    found.creators.append(Signal(name, text.strip()))


# --- judging ---------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\w]+", re.UNICODE)
_NOISE = {"c", "copyright", "all", "rights", "reserved", "by", "art", "illustration", "the", "and"}


def _tokens(text: str) -> set[str]:
    words = {w for w in _WORD.split(text.casefold().replace("©", " ")) if w and not w.isdigit()}
    return words - _NOISE


def identity_names(handles: Iterable[str], names: Iterable[str] = ()) -> set[str]:
    """The forms a creator field may give a person in: handles without '@' or their domain, and names."""
    out: set[str] = set()
    for handle in handles:
        handle = handle.strip().lstrip("@").casefold()
        if handle:
            out |= {handle, handle.split("@")[0], handle.split(".")[0]}
    out |= {n.strip().casefold() for n in names if n and n.strip()}
    return {n for n in out if len(n) >= 2}


def creator_matches(creator: str, identities: set[str]) -> bool:
    """Whether a creator field names one of these identities: the whole field, or a handle or name among its
    words ("© 2020 aoi_draws. All rights reserved." names aoi_draws). Lenient on purpose: a false match only
    lets the other checks decide, a false mismatch refuses an artist's own art."""
    text = creator.strip().lstrip("@").casefold()
    if not text or text in identities:
        return True
    words = _tokens(text)
    return any(identity in words or _tokens(identity) and _tokens(identity) <= words for identity in identities)


def judge(found: FileProvenance, identities: set[str], *, training: bool = True) -> ProvenanceVerdict:
    """The verdict for an uploader known by `identities`: refused when the file forbids AI training, names another
    creator, or (for training) says it was generated; allowed with a supporting note when its creator matches."""
    if found.no_training:
        signal = found.no_training[0]
        return ProvenanceVerdict(False, "provenance.no_ai_training", {"source": signal.source, "value": signal.value},
                                 f"the file's own metadata forbids AI training ({signal.source}: {signal.value})")
    if training and found.generated:
        signal = found.generated[0]
        return ProvenanceVerdict(False, "provenance.generated", {"source": signal.source},
                                 f"the file says it was made by AI ({signal.source})")
    others = [c for c in found.creators if not creator_matches(c.value, identities)]
    if others:
        signal = others[0]
        return ProvenanceVerdict(False, "provenance.other_creator", {"creator": signal.value[:80],
                                                                     "source": signal.source},
                                 f"the file names its creator as {signal.value[:80]!r} ({signal.source}), who is not "
                                 "one of the uploader's linked accounts")
    if found.creators:
        sources = ", ".join(dict.fromkeys(c.source for c in found.creators))
        return ProvenanceVerdict(True, "provenance.creator_matches", {"source": sources},
                                 f"the file names the uploader as its creator ({sources})")
    return ProvenanceVerdict(True)
