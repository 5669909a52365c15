@ hookline's step routine for Espruino 2v29+ (docs/targets/espruino.md, "Step generator").
@ Called from the utility timer's interrupt by require("timer").add({type:"EXEC", ptr, userdata,
@ time, interval}) as   void step(JsSysTime now, void *state):  r0:r1 = now (system time units,
@ 2^20 per second on a Pico; only the low word is used), r2 = state (the layout below, which
@ device/espruino/step-generator.ts writes). Thumb-1 (16-bit) instructions and r0-r7 only, so
@ scripts/thumb-asm.mjs can encode it and any Cortex-M runs it; GNU as (-mcpu=cortex-m0) must give
@ the same bytes (test/espruino-step-native.test.ts checks).
@
@ Each segment is one constant-acceleration phase, integrated exactly (a DDA in 0.32 fixed point):
@ per call V += A, then P += V; a carry out of P is a step due. After m calls
@ P = P0 + m*V0 + A*m*(m+1)/2 (mod 2^32), so the k-th step of a phase comes at the first call at
@ which that sum reaches k (in units of 2^32).
@
@ State (all 32-bit little-endian words):
@   header  0 axes  4 stride (bytes per axis record)  8 ring mask  12 now (last call)  16 calls  20 0
@   axis records from 24, each `stride` bytes:
@     0 STEP BSRR address   4 BSRR word: STEP high   8 BSRR word: STEP low
@    12 DIR BSRR address   16 BSRR word: DIR for +1  20 BSRR word: DIR for -1
@    24 STEP is high (0/1) 28 position (signed steps) 32 steps left in the current segment
@    36 current direction (+1/-1, 0 before the first segment)
@    40 P (fraction of a step, uint32)  44 V (steps per call, uint32)  48 A (steps per call^2, int32)
@    52 pending (0/1: a step is due but not made yet)
@    56 ring read index (this routine)  60 ring write index (JavaScript)
@    64 ring of (mask + 1) segments of 32 bytes: dir, count, start (units), P0, V0, A, pending0, 0
@ Per call and axis, in this order: a STEP that is high goes low, and the axis makes no step on this
@ call. An axis with no steps left takes the next segment from its ring once now >= its start
@ (signed difference): count, P, V, A, pending from the segment; if the direction changes it writes
@ DIR and makes no step on this call (DIR setup time); if now is exactly the start, P0 and V0 are
@ this call's state (no integration). An axis with steps left integrates (V += A, P += V; a carry
@ sets pending). Then a pending step is made unless the axis may not step on this call: STEP goes
@ high, the position moves by the direction, one step fewer is left, pending clears.
@ r0 now, r1 nonzero = no step on this call, r2 state, r4 the axis record, r7 axes left.

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
	ldr r1, [r4, #24]
	cmp r1, #0
	beq low
	ldr r5, [r4, #0]
	ldr r6, [r4, #8]
	str r6, [r5, #0]
	movs r3, #0
	str r3, [r4, #24]
low:
	ldr r3, [r4, #32]
	cmp r3, #0
	bne integrate
	ldr r5, [r4, #56]
	ldr r6, [r4, #60]
	cmp r5, r6
	beq next
	lsls r6, r5, #5
	adds r6, r6, r4
	adds r6, #64
	ldr r3, [r6, #8]
	subs r3, r0, r3
	bmi next
	ldr r3, [r6, #4]
	str r3, [r4, #32]
	ldr r3, [r6, #12]
	str r3, [r4, #40]
	ldr r3, [r6, #16]
	str r3, [r4, #44]
	ldr r3, [r6, #20]
	str r3, [r4, #48]
	ldr r3, [r6, #24]
	str r3, [r4, #52]
	adds r5, r5, #1
	ldr r3, [r2, #8]
	ands r5, r3
	str r5, [r4, #56]
	ldr r3, [r6, #0]
	ldr r5, [r4, #36]
	cmp r3, r5
	beq same
	str r3, [r4, #36]
	movs r1, #1
	ldr r5, [r4, #12]
	cmp r3, #0
	ldr r3, [r4, #16]
	bgt plus
	ldr r3, [r4, #20]
plus:
	str r3, [r5, #0]
same:
	ldr r3, [r6, #8]
	cmp r0, r3
	beq emit
integrate:
	ldr r3, [r4, #44]
	ldr r5, [r4, #48]
	adds r3, r3, r5
	str r3, [r4, #44]
	ldr r5, [r4, #40]
	adds r5, r5, r3
	str r5, [r4, #40]
	bcs due
emit:
	ldr r3, [r4, #52]
	cmp r3, #0
	beq next
due:
	movs r3, #1
	cmp r1, #0
	bne hold
	ldr r5, [r4, #0]
	ldr r6, [r4, #4]
	str r6, [r5, #0]
	str r3, [r4, #24]
	ldr r3, [r4, #28]
	ldr r5, [r4, #36]
	adds r3, r3, r5
	str r3, [r4, #28]
	ldr r3, [r4, #32]
	subs r3, r3, #1
	str r3, [r4, #32]
	movs r3, #0
hold:
	str r3, [r4, #52]
next:
	ldr r3, [r2, #4]
	adds r4, r4, r3
	subs r7, r7, #1
	b loop
done:
	pop {r4, r5, r6, r7, pc}
