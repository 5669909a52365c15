/* Guest instructions executed under qemu-user, per vCPU (= per guest thread), for Debian's
 * qemu-user 7.2 (TCG plugin API 1; the few declarations needed from <qemu/qemu-plugin.h> are
 * repeated here, so no QEMU source tree is needed). The Espruino Linux build runs a second thread
 * (targets/linux/jshardware.c jshInputThread: console input and output) whose work depends on
 * wall time; realchips' qemu/insncount.c adds every thread into one count, this one prints each
 * thread's count ("insns N" is vCPU 0's: the interpreter's main thread).
 * Build: gcc -shared -fPIC -O2 insncount-vcpu.c -o libinsncount-vcpu.so
 * Use:   qemu-arm -plugin ./libinsncount-vcpu.so -d plugin PROGRAM...  */
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb, enum qemu_plugin_cb_flags flags, void *userdata);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
extern void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
#define MAXV 16
static uint64_t insns[MAXV];

static void tb_exec(unsigned int vcpu, void *n) { insns[vcpu < MAXV ? vcpu : MAXV - 1] += (uintptr_t)n; }
static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}
static void at_exit(qemu_plugin_id_t id, void *p) {
  char buf[96];
  snprintf(buf, sizeof buf, "insns %llu\n", (unsigned long long)insns[0]);
  qemu_plugin_outs(buf);
  for (int i = 0; i < MAXV; i++) if (insns[i]) {
    snprintf(buf, sizeof buf, "vcpu %d insns %llu\n", i, (unsigned long long)insns[i]);
    qemu_plugin_outs(buf);
  }
}
__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
