import numpy as np

def field(
    cx: np.ndarray,
    cy: np.ndarray,
    ids: np.ndarray,
    ax: np.ndarray,
    ay: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    il2: np.ndarray,
    out: np.ndarray,
    x0: int,
    y0: int,
    w: int,
    h: int,
    cell: float,
    ox: float,
    oy: float,
    cap: float,
    /,
) -> None: ...
