"""The labels the pipeline gives what it makes, in the collection's languages (ko, en, ru)."""

from __future__ import annotations

from pipeline.iiif.text import LangMap

# Labels of the links the pipeline makes itself, in the collection's languages.
LINK_LABELS: dict[str, LangMap] = {
    "alto": {
        "ko": ["OCR 본문 (ALTO XML)"],
        "en": ["OCR text (ALTO XML)"],
        "ru": ["Распознанный текст (ALTO XML)"],
    },
    "hocr": {
        "ko": ["OCR 본문 (hOCR)"],
        "en": ["OCR text (hOCR)"],
        "ru": ["Распознанный текст (hOCR)"],
    },
    "page_text": {
        "ko": ["이 면의 OCR 본문 (텍스트)"],
        "en": ["OCR text of this page (plain text)"],
        "ru": ["Распознанный текст страницы (текст)"],
    },
    # A transcribed page's files (human or HTR text, not OCR).
    "transcription_alto": {
        "ko": ["전사 본문 (ALTO XML)"],
        "en": ["Transcription (ALTO XML)"],
        "ru": ["Транскрипция (ALTO XML)"],
    },
    "transcription_hocr": {
        "ko": ["전사 본문 (hOCR)"],
        "en": ["Transcription (hOCR)"],
        "ru": ["Транскрипция (hOCR)"],
    },
    "transcription_page_text": {
        "ko": ["이 면의 전사 본문 (텍스트)"],
        "en": ["Transcription of this page (plain text)"],
        "ru": ["Транскрипция страницы (текст)"],
    },
    "text": {
        "ko": ["권 전체 OCR 본문 (텍스트)"],
        "en": ["OCR text of the volume (plain text)"],
        "ru": ["Распознанный текст тома (текст)"],
    },
    # The volume text when some of its pages are transcriptions (the rest OCR).
    "transcribed_text": {
        "ko": ["권 전체 본문: 전사와 OCR (텍스트)"],
        "en": ["Text of the volume: transcriptions and OCR (plain text)"],
        "ru": ["Текст тома: транскрипции и распознанный текст (текст)"],
    },
    "pdf": {
        "ko": ["PDF (본문 검색 가능)"],
        "en": ["PDF with text"],
        "ru": ["PDF с текстом"],
    },
}

# Labels of the catalogue fields of a volume descriptor (input.descriptor.CATALOGUE_FIELDS).
FIELD_LABELS: dict[str, LangMap] = {
    "title": {"ko": ["표제"], "en": ["Title"], "ru": ["Заглавие"]},
    "creator": {"ko": ["저자"], "en": ["Creator"], "ru": ["Автор"]},
    "compiler": {"ko": ["편찬자"], "en": ["Compiler"], "ru": ["Составитель"]},
    "date": {"ko": ["일자"], "en": ["Date"], "ru": ["Дата"]},
    "language": {"ko": ["언어"], "en": ["Language"], "ru": ["Язык"]},
    "subject": {"ko": ["주제"], "en": ["Subject"], "ru": ["Тема"]},
    "physical_description": {
        "ko": ["형태사항"],
        "en": ["Physical description"],
        "ru": ["Физическое описание"],
    },
    "identifier": {"ko": ["청구기호"], "en": ["Call number"], "ru": ["Шифр"]},
    "source_collection": {"ko": ["출처"], "en": ["Source collection"], "ru": ["Источник"]},
}
