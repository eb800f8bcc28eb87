"""The one list of features.  Each module has ``NAME``, ``register(app)`` (blueprints, OpenAPI
paths, its services) and ``register_cli(group)``; importing it also registers its SQL tables.
Adding a feature is one line here (README, "Layout")."""

from __future__ import annotations

from idsvc.attempts import feature as attempts
from idsvc.certificate import feature as certificate
from idsvc.documents import feature as documents
from idsvc.idchange import feature as idchange
from idsvc.liveness import feature as liveness
from idsvc.qr import feature as qr
from idsvc.reverify import feature as reverify

# attempts before qr: qr's register() takes the attempts service from the app.
# reverify after qr: it adds a scan guard to qr's sessions.
FEATURES = (attempts, qr, reverify, liveness, documents, idchange, certificate)
