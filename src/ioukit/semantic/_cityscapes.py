"""Cityscapes label tables (cityscapesscripts ``helpers/labels.py``).

``LABEL_ID_TO_TRAIN_ID`` maps the 34 ``labelIds`` to the 19 evaluated train ids
(255 for the rest); ``CATEGORY_OF_CLASS`` gives each train id's category (index into
``CATEGORIES``), for Cityscapes' category mIoU.

>>> len(CLASSES), CLASSES[LABEL_ID_TO_TRAIN_ID[26]], CATEGORIES[CATEGORY_OF_CLASS[13]]
(19, 'car', 'vehicle')
"""

from __future__ import annotations

__all__ = ["CLASSES", "CATEGORIES", "CATEGORY_OF_CLASS", "LABEL_ID_TO_TRAIN_ID"]

#: the 19 evaluated classes, by train id
CLASSES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
    "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
    "bus", "train", "motorcycle", "bicycle",
)  # fmt: skip

#: the 7 categories of the evaluated classes
CATEGORIES = ("flat", "construction", "object", "nature", "sky", "human", "vehicle")

#: category index of each train id
CATEGORY_OF_CLASS = (0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 6, 6, 6, 6, 6)

_EVALUATED = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
    24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}  # fmt: skip

#: labelIds 0..33 -> train id (255: not evaluated)
LABEL_ID_TO_TRAIN_ID = {i: _EVALUATED.get(i, 255) for i in range(34)}
