"""The generator registry: which text names a generator, which family stands for which."""

from detector.generators import find_by_text, key_for_family


def test_a_generator_whose_name_is_an_ordinary_word_is_not_named_by_it():
    """The classifier's research families are listed for their names only: a title such as
    "Cosmos" or "Float" in a tag names no generator."""
    named = {g.key for g in find_by_text("Cosmos: a Float over Lumiere, with EMO and NOVA")}
    assert not named & {"cosmos", "float", "lumiere", "emo", "nova"}
    assert key_for_family("runway-gen3") == "runway"  # a registered generator's other family
    assert key_for_family("cosmos") == "cosmos"
