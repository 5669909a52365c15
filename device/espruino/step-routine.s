@ hookline's step routine for Espruino 2v29+ (docs/targets/espruino.md, "Step generator").
@ Called from the utility timer's interrupt by require("timer").add({type:"EXEC", ptr, userdata,
@ time, interval}) as   void step(JsSysTime now, void *state):  r0:r1 = now (system time units,
@ 2^20 per second on a Pico; only the low word is used), r2 = state (the layout below, which
@ device/espruino/step-generator.ts writes). Thumb-1 (16-bit) instructions and r0-r7 only, so
@ scripts/thumb-asm.mjs can encode it and any Cortex-M runs it; GNU as (-mcpu=cortex-m0) must give
@ the same bytes (test/espruino-step-native.test.ts checks).
@
@ State (all 32-bit little-endian words):
@   header  0 axes  4 stride (bytes per axis record)  8 ring mask  12 now (last call)  16 calls  20 0
@   axis records from 24, each `stride` bytes:
@     0 STEP BSRR address   4 BSRR word: STEP high   8 BSRR word: STEP low
@    12 DIR BSRR address   16 BSRR word: DIR for +1  20 BSRR word: DIR for -1
@    24 STEP is high (0/1) 28 position (signed steps) 32 steps left in the current segment
@    36 current direction (+1/-1, 0 before the first segment)
@    40/44 next step time (32.32 fixed point, units; lo = fraction)  48/52 interval (32.32)
@    56/60 add (32.32, signed)  64 ring read index (this routine)  68 ring write index (JavaScript)
@    72 ring of (mask + 1) segments of 24 bytes: dir, count, interval lo/hi, add lo/hi
@ Per call and axis, in this order: a STEP that is high goes low (nothing else for that axis on
@ this call: a pulse lasts one call period and steps are at least two calls apart); an axis with no
@ steps left takes the next segment from its ring (if the direction changes it writes DIR and
@ steps no earlier than the next call: DIR setup time); then, if now >= the next step's time,
@ STEP goes high, the position moves by the direction, and the next step's time advances by the
@ interval, which grows by add.

step:
	push {r4, r5, r6, r7, lr}
	str r0, [r2, #12]
	ldr r3, [r2, #16]
	adds r3, r3, #1
	str r3, [r2, #16]
	ldr r7, [r2, #0]
	movs r4, r2
	adds r4, #24
loop:
	cmp r7, #0
	beq done
	ldr r3, [r4, #24]
	cmp r3, #0
	beq low
	ldr r5, [r4, #0]
	ldr r6, [r4, #8]
	str r6, [r5, #0]
	movs r3, #0
	str r3, [r4, #24]
	b next
low:
	ldr r3, [r4, #32]
	cmp r3, #0
	bne due
	ldr r5, [r4, #64]
	ldr r6, [r4, #68]
	cmp r5, r6
	beq next
	lsls r6, r5, #1
	adds r6, r6, r5
	lsls r6, r6, #3
	adds r6, r6, r4
	adds r6, #72
	ldr r3, [r6, #4]
	str r3, [r4, #32]
	ldr r5, [r6, #8]
	ldr r3, [r6, #12]
	str r5, [r4, #48]
	str r3, [r4, #52]
	ldr r1, [r4, #40]
	adds r1, r1, r5
	str r1, [r4, #40]
	ldr r1, [r4, #44]
	adcs r1, r3
	str r1, [r4, #44]
	ldr r5, [r6, #16]
	str r5, [r4, #56]
	ldr r5, [r6, #20]
	str r5, [r4, #60]
	ldr r3, [r6, #0]
	ldr r5, [r4, #64]
	adds r5, r5, #1
	ldr r1, [r2, #8]
	ands r5, r1
	str r5, [r4, #64]
	ldr r1, [r4, #36]
	cmp r3, r1
	beq due
	str r3, [r4, #36]
	ldr r5, [r4, #12]
	ldr r6, [r4, #16]
	cmp r3, #0
	bgt plus
	ldr r6, [r4, #20]
plus:
	str r6, [r5, #0]
	b next
due:
	ldr r3, [r4, #44]
	subs r3, r0, r3
	bmi next
	ldr r5, [r4, #0]
	ldr r6, [r4, #4]
	str r6, [r5, #0]
	movs r3, #1
	str r3, [r4, #24]
	ldr r3, [r4, #28]
	ldr r5, [r4, #36]
	adds r3, r3, r5
	str r3, [r4, #28]
	ldr r3, [r4, #32]
	subs r3, r3, #1
	str r3, [r4, #32]
	beq next
	ldr r5, [r4, #48]
	ldr r6, [r4, #56]
	adds r5, r5, r6
	str r5, [r4, #48]
	ldr r5, [r4, #52]
	ldr r6, [r4, #60]
	adcs r5, r6
	str r5, [r4, #52]
	ldr r3, [r4, #40]
	ldr r6, [r4, #48]
	adds r3, r3, r6
	str r3, [r4, #40]
	ldr r3, [r4, #44]
	adcs r3, r5
	str r3, [r4, #44]
next:
	ldr r3, [r2, #4]
	adds r4, r4, r3
	subs r7, r7, #1
	b loop
done:
	pop {r4, r5, r6, r7, pc}
