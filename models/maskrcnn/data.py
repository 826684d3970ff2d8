"""emoji-COCO loader for Mask R-CNN training: COCO JSON + JPEGs → stretched square input
(x/255, then (x − mean)/std, as the manifest), GT boxes xyxy in input pixels, class labels
1..80 (order of shared/emoji-coco.json, 0 = background), GT masks at input resolution.
The loader is shared with models/centermask: it lives in models/common/emoji_coco.py."""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from emoji_coco import (MEAN, STD, EmojiCoco, SizedBatchSampler, class_index_of_category, collate,  # noqa: E402,F401
                        load_categories, preprocess, rle_decode)
