"""Language tags people write (``ko``, ``ru``, ``zh-Hant``) and the tesseract models they mean.

Tesseract names its models after ISO 639-2/T codes with a script suffix (``kor``, ``rus``,
``chi_tra``), while catalogues and IIIF use BCP 47 tags (``ko``, ``ru``, ``zh-Hant``). A tag in
place of a model name would only fail later, as a language pack that does not exist
(``tesseract-ocr-ko``): configuration checks catch it up front and name the model to write.
"""

from __future__ import annotations

# Lower-case BCP 47 tag (or an ISO 639-2/B code tesseract does not use) -> tesseract model.
# The languages of this collection and their neighbours; a tag with a region or script not
# listed here is looked up by its primary language subtag.
TAG_MODELS: dict[str, str] = {
    "ko": "kor",
    "ru": "rus",
    "uk": "ukr",
    "en": "eng",
    "de": "deu",
    "ger": "deu",
    "fr": "fra",
    "fre": "fra",
    "ja": "jpn",
    "mn": "mon",
    "la": "lat",
    "zh-hant": "chi_tra",
    "zh-tw": "chi_tra",
    "zh-hk": "chi_tra",
    "zh-mo": "chi_tra",
    "zh-hans": "chi_sim",
    "zh-cn": "chi_sim",
    "zh-sg": "chi_sim",
}
# Tags that name Chinese without saying which script: the models differ by script.
AMBIGUOUS = frozenset({"zh", "chi", "zho"})
VERTICAL = "_vert"
# Script models ship in packages named after the script's ISO 15924 code, not after the model.
SCRIPT_PACKAGES = {
    "Hangul": "tesseract-ocr-script-hang",
    "Hangul_vert": "tesseract-ocr-script-hang-vert",
}


def debian_package(model: str) -> str:
    """The Debian package that ships a tesseract model (``chi_tra`` -> ``tesseract-ocr-chi-tra``).

    Args:
        model: The model name.

    Returns:
        The package name.

    """
    return SCRIPT_PACKAGES.get(model) or "tesseract-ocr-" + model.lower().replace("_", "-")


def model_for_tag(name: str) -> str | None:
    """The tesseract model a language tag stands for, if ``name`` is such a tag.

    ``ko`` gives ``kor``, ``zh-TW`` gives ``chi_tra``, ``ko_vert`` gives ``kor_vert``; a
    model name (``kor``, ``kor_vert``, ``Hangul``) gives ``None``.

    Args:
        name: One language of a ``+``-joined tesseract language spec.

    Returns:
        The model name, or ``None``.

    """
    base, vertical = name, ""
    if name.endswith(VERTICAL):
        base, vertical = name[: -len(VERTICAL)], VERTICAL
    tag = base.lower().replace("_", "-")
    model = TAG_MODELS.get(tag)
    primary = tag.split("-", 1)[0]
    if model is None and "-" in tag and primary != "zh":
        model = TAG_MODELS.get(primary)
    return model + vertical if model else None


def tag_problem(spec: str) -> str | None:
    """Say what to write instead when a language spec holds language tags, not model names.

    Args:
        spec: A ``+``-joined tesseract language spec as configured (``kor+rus``, ``ko``).

    Returns:
        The reason and the fix, naming the models and their Debian packages; ``None`` when
        no part of ``spec`` is a language tag we know.

    """
    parts = spec.split("+")
    for part in parts:
        if part.lower().removesuffix(VERTICAL).split("-", 1)[0] in AMBIGUOUS and (
            model_for_tag(part) is None
        ):
            return (
                f"{part!r} does not say which Chinese script: write 'chi_tra' (traditional, "
                "Debian: tesseract-ocr-chi-tra) or 'chi_sim' (simplified, Debian: "
                "tesseract-ocr-chi-sim)"
            )
    models = [model_for_tag(part) for part in parts]
    if not any(models):
        return None
    pairs = [(p, m) for p, m in zip(parts, models, strict=True) if m]
    fixed = "+".join(m or p for p, m in zip(parts, models, strict=True))
    tags = ", ".join(repr(p) for p, _ in pairs)
    named = ", ".join(repr(m) for _, m in pairs)
    packages = ", ".join(debian_package(m) for _, m in pairs)
    if len(pairs) == 1:
        what = f"{tags} is a language tag; tesseract's model for it is {named}"
    else:
        what = f"{tags} are language tags; tesseract's models for them are {named}"
    return f"{what}: write {fixed!r} (Debian: {packages})"
