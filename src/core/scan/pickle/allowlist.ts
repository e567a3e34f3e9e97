// The globals a weights pickle may name: PyTorch's weights_only unpickler's defaults
// (torch/_weights_only_unpickler.py), plus a small list found in real Stable Diffusion and
// Lightning checkpoints (the same extras AUTOMATIC1111's safe unpickler allows). Versioned:
// a change here changes verdicts, so it gets a new version and a CHANGELOG line.
export const ALLOWLIST_VERSION = '2026-11-28';

const TORCH_DTYPES = [
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'complex32', 'complex64', 'complex128', 'cfloat', 'cdouble',
  'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'short', 'int32', 'int', 'int64', 'long', 'bool',
  'quint8', 'qint8', 'qint32', 'quint4x2', 'quint2x4', 'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz',
  'uint1', 'uint2', 'uint3', 'uint4', 'uint5', 'uint6', 'uint7', 'int1', 'int2', 'int3', 'int4', 'int5', 'int6', 'int7',
];
const STORAGES = ['Double', 'Float', 'Half', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool', 'BFloat16', 'ComplexDouble', 'ComplexFloat', 'QUInt8', 'QInt8', 'QInt32', 'QUInt4x2', 'QUInt2x4', 'Untyped'];
const REBUILDS = [
  '_rebuild_parameter', '_rebuild_parameter_with_state', '_rebuild_qtensor', '_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3',
  '_rebuild_sparse_tensor', '_rebuild_meta_tensor_no_storage', '_rebuild_wrapper_subclass', '_rebuild_device_tensor_from_numpy', '_rebuild_device_tensor_from_cpu_tensor',
];

/** PyTorch's weights_only defaults, as `module.name`. */
const TORCH_WEIGHTS_ONLY = [
  'collections.OrderedDict', 'collections.Counter', 'torch.nn.parameter.Parameter', 'torch.serialization._get_layout', 'torch.Size', 'torch.Tensor', 'torch.device',
  '_codecs.encode', 'builtins.bytearray', 'builtins.set', 'builtins.complex', 'torch._tensor._rebuild_from_type_v2',
  'torch.per_tensor_affine', 'torch.per_channel_affine', 'torch.per_tensor_symmetric', 'torch.per_channel_symmetric', 'torch.per_channel_affine_float_qparams',
  ...TORCH_DTYPES.map((d) => `torch.${d}`),
  ...STORAGES.map((s) => `torch.${s}Storage`),
  ...REBUILDS.map((r) => `torch._utils.${r}`),
];

/** Found in real Stable Diffusion (.ckpt) and Lightning checkpoints. */
const CHECKPOINT_EXTRAS = [
  'torch.nn.modules.container.ParameterDict', 'numpy.core.multiarray.scalar', 'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray.scalar',
  'numpy._core.multiarray._reconstruct', 'numpy.dtype', 'numpy.ndarray', 'pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint',
];

const ALLOWED = new Set([...TORCH_WEIGHTS_ONLY, ...CHECKPOINT_EXTRAS]);

/** Whether `module.name` (already resolved) is allowed; a name with attribute walks or dunders never is. */
export function isAllowedGlobal(module: string, name: string): boolean {
  if (name.includes('.') || /__\w+__/.test(name) || /__\w+__/.test(module)) return false;
  return ALLOWED.has(`${module}.${name}`);
}
