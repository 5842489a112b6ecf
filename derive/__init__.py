"""derive: check the derivations in course notes."""
