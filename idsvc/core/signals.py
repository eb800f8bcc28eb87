"""In-process signals between features, so one feature can react to another's events without
importing it.  Senders pass the :class:`~idsvc.core.services.Services` they act on as ``sender``,
so receivers connected for one app (or test) never hear another's."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A member's ID number changed (``member_id``, ``actor``): verifications started against the old
#: number must end.
member_identity_changed = _signals.signal("member-identity-changed")

#: A face verification was decided (``member_id``, ``passed``, ``reason``, ``session_id``,
#: ``actor``): the attempts feature counts failures per member.
face_verification_decided = _signals.signal("face-verification-decided")

#: Someone with the right to see a member asks for the member's view (``member_id``): receivers
#: return a dict of fields to add (e.g. the face-verification lock state).
member_view = _signals.signal("member-view")

#: A queue worker process is starting (sender: its Services): load models now, once per process.
worker_starting = _signals.signal("worker-starting")
