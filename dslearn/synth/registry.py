"""The engines dslearn can speak with, by name: ``get_engine("festival")``."""

from __future__ import annotations

from dslearn.synth.engine import Engine, SynthError
from dslearn.synth.espeak import Espeak
from dslearn.synth.festival import Festival
from dslearn.synth.flite import Flite

ENGINES: dict[str, type[Engine]] = {"espeak": Espeak, "flite": Flite, "festival": Festival}


def get_engine(name: str, require: bool = True) -> Engine:
    """The engine called ``name``; with ``require``, ``EngineMissing`` names what to install."""
    if name not in ENGINES:
        raise SynthError(f"unknown speech engine {name!r}; dslearn knows {', '.join(ENGINES)}")
    engine = ENGINES[name]()
    if require:
        engine.require()
    return engine


def available_engines() -> dict[str, str | None]:
    """Each engine's name → None when usable here, else why not (naming what to install)."""
    return {name: cls().missing() for name, cls in ENGINES.items()}
