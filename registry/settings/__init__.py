"""Settings: the homes, fostering branches and assessment services a commissioner can place with."""
