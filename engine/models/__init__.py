"""Neural models of the GPT-SoVITS v2 stack: spectrograms, SoVITS (s2) and the text-to-semantic GPT (s1)."""
