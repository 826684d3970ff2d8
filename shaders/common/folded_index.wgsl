// One invocation per element, in workgroups folded into two dimensions — the entry point of
// blender.wgsl, boundary_map.wgsl, rpn_decode.wgsl and roi_levels.wgsl: the host dispatches
// ceil(elements / WORKGROUP) workgroups folded into (x ≤ 65535, y) (WebGPU's default
// maxComputeWorkgroupsPerDimension), so element index = (wid.y · num_workgroups.x + wid.x) ·
// WORKGROUP + local index; the last row of workgroups may pass the end (the kernel checks).
// The including kernel declares `const WORKGROUP: u32` and defines `fn atIndex(index: u32)`.

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  atIndex((wid.y * groups.x + wid.x) * WORKGROUP + tid);
}
