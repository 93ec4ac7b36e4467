"""ValueRelay: answers for field teams, quoted from the refined sources themselves."""

import os

# Native-library settings must be in place before torch, OpenMP or Chroma load,
# so they live here, where every entry point passes first.
# Nothing may reach for a model hub: the embedding models ship inside their packages.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# Idle OpenMP threads of one model must not spin while another model runs:
# on 2 cores spinning costs the answer path about a third of its time.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
