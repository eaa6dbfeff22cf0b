/** The seccomp module: syscall tables, presets, and the BPF filter builder. */
export {
  NODE_ARCH_TO_SECCOMP_ARCH,
  SECCOMP_ARCHES,
  isKnownSyscall,
  knownSyscalls,
  seccompArchFromNode,
  syscallName,
  syscallNumber,
  type SeccompArch,
} from './syscalls.js';
export {
  DEFAULT_PRESET,
  SECCOMP_PRESETS,
  SeccompConfigError,
  describeCondition,
  describeRules,
  resolveSeccomp,
  type ArgCondition,
  type ResolvedSeccomp,
  type SeccompConfig,
  type SeccompErrno,
  type SeccompPresetName,
  type SeccompRule,
} from './presets.js';
export { buildFilter, disassemble, type DisassembleOptions } from './bpf.js';
export { OCI_SECCOMP_ARCH, ociSeccomp, passCases, refusalCases, type OciSeccomp, type OciSeccompArg, type OciSeccompSyscall } from './oci.js';
