/*
 * A QEMU TCG plugin that counts executed guest instructions: all of them, and those
 * whose translation block starts inside [low, high) (tessera's code in the program).
 * Counting is inline (an add per executed translation block), so it costs little.
 *
 * It also counts the model's instructions weighted by register-group size, so that a
 * kernel does not look better only because it uses wider groups: a vector instruction
 * counts as the number of vector registers in the largest group it reads or writes (LMUL;
 * twice that for widening and narrowing operations; EEW/SEW x LMUL for loads and stores
 * of another element width, times the fields of a segment access; the register count of
 * a whole-register move, load or store; at least 1), every other instruction as 1. The
 * current LMUL and SEW come from the immediate of the last vsetvli/vsetivli executed
 * (anywhere in the program); a vsetvl (vtype from a register, which this plugin cannot
 * read) is counted in dynamic_vtype and leaves them unchanged.
 *
 * Build: cc -O2 -shared -fPIC -o insn_count.so insn_count.c
 * Use:   qemu-riscv64 -plugin ./insn_count.so,low=<addr>,high=<addr> -d plugin prog ...
 * Prints "model_insns=N total_insns=M model_weighted=W dynamic_vtype=D" to QEMU's log
 * at exit.
 *
 * Only the few entry points this plugin uses are declared here, as QEMU 7.2's plugin
 * interface (API version 1) defines them.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info_t;
enum qemu_plugin_inline_op { INLINE_ADD_U64 = 0 };
enum qemu_plugin_cb_flags { CB_NO_REGS = 0 };
typedef void (*udata_cb_t)(unsigned int vcpu_index, void *userdata);

extern void qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern void qemu_plugin_register_vcpu_tb_exec_inline(
    struct qemu_plugin_tb *tb, enum qemu_plugin_inline_op op, void *ptr, uint64_t imm);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_atexit_cb(
    qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *userdata);
extern void qemu_plugin_outs(const char *text);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
                                                        size_t idx);
extern const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
extern size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                                   udata_cb_t cb, enum qemu_plugin_cb_flags,
                                                   void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t low, high;
static uint64_t model_insns, total_insns;
/* Weight beyond 1 of the model's vector instructions, in eighths of a register. */
static uint64_t extra_eighths, dynamic_vtype;
/* The current vtype: LMUL in eighths of a register (1/8 .. 8 -> 1 .. 64), SEW in bits. */
static uint32_t lmul8 = 8, sew = 8;

/* How an instruction's register groups follow from vtype (the low 4 bits of its
 * userdata; bits 4..11 hold an EEW in bits, bits 12..15 a register or field count). */
enum kind { K_LMUL, K_DOUBLE, K_EEW, K_INDEXED, K_WHOLE, K_ONE, K_VSETVLI, K_VSETVL };

static void on_vector(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  uintptr_t u = (uintptr_t)userdata;
  uint32_t eew = (u >> 4) & 0xff, count = (u >> 12) & 0xf;
  uint32_t w;
  switch (u & 0xf) {
  case K_DOUBLE: w = 2 * lmul8; break;
  case K_EEW: w = lmul8 * eew / sew * count; break;
  case K_INDEXED: w = lmul8 * eew / sew > lmul8 ? lmul8 * eew / sew : lmul8; break;
  case K_WHOLE: w = 8 * count; break;
  case K_ONE: w = 8; break;
  default: w = lmul8;
  }
  if (w > 8) extra_eighths += w - 8;
}

static void on_vsetvli(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  uintptr_t vtype = (uintptr_t)userdata >> 4;
  static const uint32_t lmul_eighths[8] = {8, 16, 32, 64, 8, 1, 2, 4};
  lmul8 = lmul_eighths[vtype & 7];
  sew = 8u << ((vtype >> 3) & 7);
}

static void on_vsetvl(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  (void)userdata;
  dynamic_vtype++;
}

/* The kind of a 32-bit RVV instruction (with its EEW and count), or -1 for others. */
static int64_t classify(uint32_t insn) {
  uint32_t opcode = insn & 0x7f, funct3 = (insn >> 12) & 7, funct6 = insn >> 26;
  if (opcode == 0x57 && funct3 == 7) {
    if ((insn >> 31) == 0) return K_VSETVLI | ((insn >> 20) & 0x7ff) << 4;
    if ((insn >> 30) == 3) return K_VSETVLI | ((insn >> 20) & 0x3ff) << 4;
    return K_VSETVL;
  }
  if (opcode == 0x57) {
    uint32_t vs1 = (insn >> 15) & 0x1f;
    int fp_or_m = funct3 == 1 || funct3 == 2 || funct3 == 5 || funct3 == 6;
    if (fp_or_m && (funct6 >> 4) == 3) return K_DOUBLE; /* widening arithmetic */
    if (!fp_or_m && funct6 >= 0x2c && funct6 <= 0x2f) return K_DOUBLE; /* narrowing */
    if (funct3 == 1 && funct6 == 0x12 && (vs1 & 0x18)) return K_DOUBLE; /* vfw/vfncvt */
    if (funct3 == 3 && funct6 == 0x27) /* vmv<nr>r.v */
      return K_WHOLE | (uint64_t)(((insn >> 15) & 7) + 1) << 12;
    if ((funct3 == 2 || funct3 == 1) && funct6 == 0x10) return K_ONE; /* vmv.x.s, ... */
    if (funct3 == 2 && funct6 >= 0x18 && funct6 <= 0x1f) return K_ONE; /* mask logic */
    return K_LMUL;
  }
  if ((opcode == 0x07 || opcode == 0x27) && (funct3 == 0 || funct3 >= 5)) {
    uint32_t eew = funct3 == 0 ? 8 : 8u << (funct3 - 4), mop = (insn >> 26) & 3;
    uint32_t fields = (insn >> 29) + 1, lumop = (insn >> 20) & 0x1f;
    if (mop == 0 && lumop == 8) return K_WHOLE | (uint64_t)fields << 12;
    if (mop == 0 && lumop == 0xb) return K_ONE; /* mask load/store */
    if (mop & 1) return K_INDEXED | eew << 4;
    return K_EEW | eew << 4 | (uint64_t)fields << 12;
  }
  return -1;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  uint64_t n = qemu_plugin_tb_n_insns(tb);
  uint64_t pc = qemu_plugin_tb_vaddr(tb);
  int in_model = pc >= low && pc < high;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, &total_insns, n);
  if (in_model)
    qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, &model_insns, n);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    if (qemu_plugin_insn_size(insn) != 4) continue;
    uint32_t word;
    memcpy(&word, qemu_plugin_insn_data(insn), 4);
    int64_t kind = classify(word);
    if (kind < 0) continue;
    if ((kind & 0xf) == K_VSETVLI)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_vsetvli, CB_NO_REGS, (void *)kind);
    else if (kind == K_VSETVL)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_vsetvl, CB_NO_REGS, NULL);
    else if (in_model)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_vector, CB_NO_REGS, (void *)kind);
  }
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  char line[192];
  snprintf(line, sizeof line,
           "model_insns=%" PRIu64 " total_insns=%" PRIu64 " model_weighted=%" PRIu64
           " dynamic_vtype=%" PRIu64 "\n",
           model_insns, total_insns, model_insns + extra_eighths / 8, dynamic_vtype);
  qemu_plugin_outs(line);
}

__attribute__((visibility("default"))) int qemu_plugin_install(
    qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "low=", 4) == 0) low = strtoull(argv[i] + 4, NULL, 0);
    if (strncmp(argv[i], "high=", 5) == 0) high = strtoull(argv[i] + 5, NULL, 0);
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
