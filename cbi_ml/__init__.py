"""CBI's model code: plain Python that the dbt Python models in `ml/` call and the tests call directly.

Importing the package sets two process-wide defaults before LightGBM or AutoGluon load:
- OMP_WAIT_POLICY=PASSIVE: with busy-waiting OpenMP threads LightGBM on 2 cores can run 30-100x slower.
- HF_HUB_OFFLINE=1: no foundation model is on the default path, so AutoGluon must not spend minutes
  retrying an unreachable model hub. Users who opt into foundation models set it to 0 themselves.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
