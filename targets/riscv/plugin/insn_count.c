/*
 * A QEMU TCG plugin that counts executed guest instructions: all of them, and those
 * whose translation block starts inside [low, high) (tessera's code in the program).
 * Counting is inline (an add per executed translation block), so it costs little.
 *
 * Build: cc -O2 -shared -fPIC -o insn_count.so insn_count.c
 * Use:   qemu-riscv64 -plugin ./insn_count.so,low=<addr>,high=<addr> -d plugin prog ...
 * Prints "model_insns=N total_insns=M" to QEMU's log at exit.
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
struct qemu_info_t;
enum qemu_plugin_inline_op { INLINE_ADD_U64 = 0 };

extern void qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern void qemu_plugin_register_vcpu_tb_exec_inline(
    struct qemu_plugin_tb *tb, enum qemu_plugin_inline_op op, void *ptr, uint64_t imm);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_atexit_cb(
    qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *userdata);
extern void qemu_plugin_outs(const char *text);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t low, high;
static uint64_t model_insns, total_insns;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  uint64_t n = qemu_plugin_tb_n_insns(tb);
  uint64_t pc = qemu_plugin_tb_vaddr(tb);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, &total_insns, n);
  if (pc >= low && pc < high)
    qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, &model_insns, n);
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  char line[128];
  snprintf(line, sizeof line, "model_insns=%" PRIu64 " total_insns=%" PRIu64 "\n",
           model_insns, total_insns);
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
