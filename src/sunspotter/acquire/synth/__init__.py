"""The synthetic Sun: a PSPT-like archive whose masks are exact by construction."""
