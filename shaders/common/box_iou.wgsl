// Boxes as vec4 (x1, y1, x2, y2); an empty or inverted box has area 0. The IoU of two boxes
// whose union is empty is 0. Same maths as app/reference/boxes.ts.
fn area(b: vec4<f32>) -> f32 {
  return max(b.z - b.x, 0.0) * max(b.w - b.y, 0.0);
}

fn iou(a: vec4<f32>, b: vec4<f32>) -> f32 {
  let iw = max(min(a.z, b.z) - max(a.x, b.x), 0.0);
  let ih = max(min(a.w, b.w) - max(a.y, b.y), 0.0);
  let inter = iw * ih;
  let unionArea = (area(a) + area(b)) - inter;
  return select(0.0, inter / unionArea, unionArea > 0.0);
}
