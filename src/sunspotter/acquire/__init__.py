"""How a raw archive comes to exist: the synthetic Sun, the instrument profiles, the LASP client, the gallery."""
