"""Text frontend: normalisation, G2P and the GPT-SoVITS v2 phoneme table."""
