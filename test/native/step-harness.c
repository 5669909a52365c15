/* Runs hookline's Espruino step routine (device/espruino/step-routine.s, as bytes) on a real ARM
 * CPU (qemu-arm), called as Espruino 2v29's utility timer calls an EXEC task:
 *   void fn(JsSysTime time, void *userdata)   (time: int64 in r0:r1, userdata in r2).
 * The routine's bytes are copied into an RWX mapping; its state and a "GPIO" page (ordinary RAM
 * that stands for the BSRR registers) live at fixed addresses the test writes into the state.
 * Built by test/espruino-step-native.test.ts with arm-linux-gnueabihf-gcc into a temp dir.
 *
 * stdin, one command a line:
 *   L <path>        load the routine's bytes from a file
 *   R <words>       zero <words> of state and the GPIO page
 *   W <i> <value>   state word i = value (signed or unsigned decimal)
 *   C <now>         one call with time = now (u32, high word 0); prints "E <call> <gpio word> <value>"
 *                   for every GPIO word the call wrote (then clears it)
 *   D               prints "D <word> <word> ..." (the state)
 * stdout: those lines; stderr: errors (exit 1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CODE_ADDR 0x30020000u
#define STATE_ADDR 0x30010000u
#define GPIO_ADDR 0x30000000u
#define PAGE 0x10000u
#define GPIO_WORDS 64

typedef void (*step_fn)(int64_t time, void *userdata);

static void *fixed(uint32_t addr, int prot) {
  void *p = mmap((void *)(uintptr_t)addr, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
    fprintf(stderr, "step-harness: cannot map 0x%08x\n", addr);
    exit(1);
  }
  return p;
}

int main(void) {
  uint8_t *code = fixed(CODE_ADDR, PROT_READ | PROT_WRITE | PROT_EXEC);
  volatile uint32_t *state = fixed(STATE_ADDR, PROT_READ | PROT_WRITE);
  volatile uint32_t *gpio = fixed(GPIO_ADDR, PROT_READ | PROT_WRITE);
  uint32_t words = 0;
  unsigned long calls = 0;
  step_fn fn = (step_fn)(uintptr_t)(CODE_ADDR | 1u); /* Thumb */
  char line[512];
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while (fgets(line, sizeof line, stdin)) {
    char cmd = line[0];
    if (cmd == 'L') {
      char path[400];
      if (sscanf(line + 1, "%399s", path) != 1) { fprintf(stderr, "bad L\n"); return 1; }
      FILE *f = fopen(path, "rb");
      if (!f) { fprintf(stderr, "step-harness: cannot open %s\n", path); return 1; }
      size_t n = fread(code, 1, PAGE, f);
      fclose(f);
      __builtin___clear_cache((char *)code, (char *)code + n);
    } else if (cmd == 'R') {
      words = (uint32_t)strtoul(line + 1, NULL, 10);
      if (words * 4 > PAGE) { fprintf(stderr, "state too big\n"); return 1; }
      memset((void *)state, 0, PAGE);
      memset((void *)gpio, 0, GPIO_WORDS * 4);
      calls = 0;
    } else if (cmd == 'W') {
      char *end;
      unsigned long i = strtoul(line + 1, &end, 10);
      long long v = strtoll(end, NULL, 10);
      if (i >= words) { fprintf(stderr, "W out of range\n"); return 1; }
      state[i] = (uint32_t)v;
    } else if (cmd == 'C') {
      uint32_t now = (uint32_t)strtoul(line + 1, NULL, 10);
      fn((int64_t)now, (void *)(uintptr_t)STATE_ADDR);
      for (int g = 0; g < GPIO_WORDS; g++) {
        if (gpio[g]) {
          printf("E %lu %d %u\n", calls, g, gpio[g]);
          gpio[g] = 0;
        }
      }
      calls++;
    } else if (cmd == 'D') {
      printf("D");
      for (uint32_t i = 0; i < words; i++) printf(" %d", (int32_t)state[i]);
      printf("\n");
    }
  }
  fflush(stdout);
  return 0;
}
