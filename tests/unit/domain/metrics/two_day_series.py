"""A two-day 20-minute series whose grid is the readings themselves, for hand-computed tests.

Readings at 00:20, 00:40, … of day 0 up to 00:00 of day 2 (144 readings, flat grid index
``i`` at minute ``20 (i + 1)``): day 0 alternates 90, 110 (36 each), day 1 alternates 110,
130. The 00:00 reading of day 2 makes a third, all-NaN grid row, which R has too
(ceiling(2860 min / 1 day + 1) = 3).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tests.unit.domain.metrics.series import at_minutes

_INDEX = np.arange(144)
MINUTES = 20 * (_INDEX + 1)
GLUCOSE: npt.NDArray[np.float64] = np.where(_INDEX % 2 == 0, 90.0, 110.0) + 20.0 * (_INDEX >= 72)
TIMES_MS = at_minutes(MINUTES)
