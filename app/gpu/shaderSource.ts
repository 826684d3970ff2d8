/**
 * WGSL has no includes. A kernel names the shared declarations it uses with a line
 * `//!include NAME`, and `withIncludes` puts shaders/common/NAME.wgsl in its place before
 * the kernel is compiled: the DetectionRecords structs (record or record_atomic_area, then
 * records), the box IoU (box_iou), torchvision's bilinear taps (bilinear_taps), … A part
 * may include parts itself (roi_levels includes folded_index); they are put in place alike.
 */
import bilinearTaps from '../../shaders/common/bilinear_taps.wgsl?raw';
import boxIou from '../../shaders/common/box_iou.wgsl?raw';
import foldedIndex from '../../shaders/common/folded_index.wgsl?raw';
import record from '../../shaders/common/record.wgsl?raw';
import recordAtomicArea from '../../shaders/common/record_atomic_area.wgsl?raw';
import records from '../../shaders/common/records.wgsl?raw';
import radixSelect from '../../shaders/common/radix_select.wgsl?raw';
import rankedRows from '../../shaders/common/ranked_rows.wgsl?raw';
import maskCrop from '../../shaders/common/mask_crop.wgsl?raw';
import maskWords from '../../shaders/common/mask_words.wgsl?raw';
import nmsClass from '../../shaders/common/nms_class.wgsl?raw';
import roiLevels from '../../shaders/common/roi_levels.wgsl?raw';
import sortKeys from '../../shaders/common/sort_keys.wgsl?raw';

const PARTS: { [name: string]: string } = {
  bilinear_taps: bilinearTaps,
  box_iou: boxIou,
  folded_index: foldedIndex,
  record,
  record_atomic_area: recordAtomicArea,
  records,
  mask_crop: maskCrop,
  mask_words: maskWords,
  nms_class: nmsClass,
  radix_select: radixSelect,
  ranked_rows: rankedRows,
  roi_levels: roiLevels,
  sort_keys: sortKeys,
};

export function withIncludes(code: string, within: readonly string[] = []): string {
  return code.replace(/^\/\/!include (\w+)[ \t]*$/gm, (_line, name: string) => {
    const part = PARTS[name];
    if (part === undefined) throw new Error(`WGSL: no shaders/common/${name}.wgsl to include`);
    if (within.includes(name)) throw new Error(`WGSL: shaders/common/${name}.wgsl includes itself (${[...within, name].join(' → ')})`);
    return withIncludes(part.trimEnd(), [...within, name]);
  });
}
