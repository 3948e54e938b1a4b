"""Several models dreaming as one: class dreams that other models hear too.

A class dream climbed on one model finds what *that* model takes for a flute; much of it
is that model's own quirk, which another model does not share. Climbing the mean
log-probability of several models trained apart (different builders, data, seeds) keeps
what they agree on, the way an ensemble makes an adversarial example transfer. An
:class:`Ensemble` is a :class:`~auditory_deepdream.dreamer.Dreamer` whose class logits
are the members' mean log-softmax; layer and filter objectives read its *lead* member
(the first), so its layer names are the lead's.

An ensemble is stored as a folder with ``ensemble.json`` (``{"members": [folder, ...],
"note": ...}``, paths relative to it) beside the member model folders
(:mod:`auditory_deepdream.ensembles`); :meth:`Dreamer.load
<auditory_deepdream.dreamer.Dreamer.load>` of such a folder gives an :class:`Ensemble`, so
``auditory-deepdream dream --model FOLDER`` dreams with it.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from .. import models
from ..models.ensembles import ENSEMBLE_FILE, is_ensemble, member_folders, write_ensemble_file
from ..errors import ModelError
from .activations import Dreamer
from .objectives import LOGITS

__all__ = ["ENSEMBLE_FILE", "Ensemble", "is_ensemble", "save_ensemble"]


class Ensemble(Dreamer):
    """Models dreamed together: class objectives climb the members' mean log-probability.

    Parameters
    ----------
    members : sequence of Dreamer
        Two or more models with the same audio settings and the same classes in the same
        order. The first is the *lead*: layer and filter objectives read its layers.

    Attributes
    ----------
    members : tuple of Dreamer

    Raises
    ------
    ModelError
        Fewer than two members, a member without class outputs, or members whose classes
        differ.
    SettingsMismatchError
        Members trained with different audio settings.
    """

    def __init__(self, members):
        members = tuple(members)
        if len(members) < 2:
            raise ModelError(f"An ensemble needs at least two models, got {len(members)}.")
        lead = members[0]
        for m in members[1:]:
            lead.settings.check_compatible(m.settings, mine="lead member", theirs="member")
            if m.info.n_classes != lead.info.n_classes or tuple(m.info.classes) != tuple(lead.info.classes):
                raise ModelError(f"The ensemble's members have different classes: {list(lead.info.classes)} "
                                 f"and {list(m.info.classes)}; train them on the same store.")
        if lead.info.n_classes is None:
            raise ModelError("The ensemble's members have no class outputs to average.")
        super().__init__(lead.model, settings=lead.settings, card=lead.card)
        self.members = members

    @classmethod
    def load(cls, name_or_path) -> Ensemble:
        """Load an ensemble folder (or a bundled one by name); its own ``card.json`` if it has one."""
        ensemble = cls([Dreamer.load(folder) for folder in member_folders(name_or_path)])
        ensemble.card = models.read_card(models.model_dir(name_or_path)) or ensemble.card
        return ensemble

    def activations(self, names: frozenset):
        """As :meth:`Dreamer.activations`, with ``LOGITS`` the members' mean log-softmax."""
        names = frozenset(names)
        lead_names = names - {LOGITS}
        lead = super().activations(lead_names) if lead_names else None
        if LOGITS not in names:
            return lead
        members = [m.activations(frozenset([LOGITS])) for m in self.members]

        def activations(x):
            acts = dict(lead(x)) if lead is not None else {}
            acts[LOGITS] = tf.add_n([tf.nn.log_softmax(f(x)[LOGITS]) for f in members]) / len(members)
            return acts

        return activations


def save_ensemble(folder, members: dict, *, note: str = "") -> Path:
    """Write an ensemble folder: each member's model folder plus :data:`ENSEMBLE_FILE`.

    Parameters
    ----------
    folder : path-like
    members : dict of str to Dreamer
        Member folder name to model, lead first.
    note : str
        Where the members come from (kept in the file).

    Returns
    -------
    Path
        ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, d in members.items():
        models.save_model_dir(d.model, folder / name, settings=d.settings, card=d.card)
    write_ensemble_file(folder, list(members), note=note)
    return folder
