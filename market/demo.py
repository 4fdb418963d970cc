"""Demo data: the whole market."""


def load(rng, echo) -> str:
    return ''
