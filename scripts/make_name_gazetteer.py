#!/usr/bin/env python3
"""Builds crates/pii/data/names.tsv, the person-name gazetteer of `crowdsift pii`, from the person
providers of Faker (PyPI `faker`, MIT License) for the countries of the collections crowdsift serves.

    python3 scripts/make_name_gazetteer.py   # needs faker==40.63.0 (scripts/setup.sh --test)

One line per name: `given` or `family`, a tab, the name. A fifth of the family names (those whose
SHA-256 ends in a multiple of 5; see `held_out`) are left out on purpose: the generated evaluation
set (scripts/make_pii_eval.py) writes names without a leading word with such family names, so that
its recall measures names the gazetteer does not know, as a real collection has them.
"""
import hashlib
import importlib
from pathlib import Path

import faker

OUT = Path(__file__).resolve().parent.parent / "crates" / "pii" / "data" / "names.tsv"
LOCALES = ["en_KE", "en_NG", "en_US", "en_GB", "en_IN", "fr_FR", "fr_CA", "es_ES", "es_MX", "es_CO", "pt_BR", "pt_PT",
           "id_ID", "vi_VN", "sw", "ar_SA", "ar_AA", "bn_BD", "hi_IN", "th_TH"]


def held_out(name: str) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 5 == 0


def names(provider, attrs):
    out = set()
    for a in attrs:
        v = getattr(provider, a, ())
        out |= set(v.keys() if isinstance(v, dict) else v)
    return out


def main():
    given, family = set(), set()
    for loc in LOCALES:
        p = importlib.import_module(f"faker.providers.person.{loc}").Provider
        given |= names(p, ["first_names", "first_names_male", "first_names_female"])
        family |= names(p, ["last_names", "last_names_male", "last_names_female"])
    # Multi-word entries ("Ana Lívia", "da Luz") are split: the matcher works word by word.
    split = lambda s: {w for n in s for w in n.split() if len(w) > 1}  # noqa: E731
    given, family = split(given), {w for w in split(family) if not held_out(w)}
    lines = [
        f"# Person names: given and family names of Faker {faker.VERSION}'s person providers (MIT License,",
        "# Copyright (c) 2012 Daniele Faraglia), locales " + ", ".join(LOCALES) + ".",
        "# Built by scripts/make_name_gazetteer.py; a fifth of the family names is held out for the evaluation.",
    ]
    lines += [f"given\t{n}" for n in sorted(given)] + [f"family\t{n}" for n in sorted(family)]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{len(given)} given names, {len(family)} family names -> {OUT}")


if __name__ == "__main__":
    main()
