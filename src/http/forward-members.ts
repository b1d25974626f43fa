/**
 * Makes a lazy stand-in answer for a native class: `instanceof` holds, and every member of the
 * native prototype that the stand-in does not define itself is forwarded to the real object the
 * stand-in builds on demand ("materializes"). Done by reflection, so members a newer Node adds are
 * forwarded too, and native getters never run on an object the native class did not construct
 * (which would throw).
 *
 * @example
 * ```ts
 * class LazyThing { … }
 * forwardMembers(LazyThing.prototype, Thing.prototype, (lazy) => lazy.materialize())
 * ```
 */
export function forwardMembers<Lazy extends object>(
	lazyPrototype: Lazy,
	nativePrototype: object,
	materialize: (lazy: Lazy) => object,
): void {
	Object.setPrototypeOf(lazyPrototype, nativePrototype)
	for (const key of Reflect.ownKeys(nativePrototype)) {
		if (key === 'constructor' || Object.hasOwn(lazyPrototype, key)) continue
		const descriptor = Object.getOwnPropertyDescriptor(nativePrototype, key)
		if (descriptor?.get !== undefined) {
			Object.defineProperty(lazyPrototype, key, {
				configurable: true,
				enumerable: descriptor.enumerable ?? false,
				get(this: Lazy) {
					return Reflect.get(materialize(this), key)
				},
			})
		} else if (typeof descriptor?.value === 'function') {
			Object.defineProperty(lazyPrototype, key, {
				configurable: true,
				enumerable: descriptor.enumerable ?? false,
				writable: true,
				value(this: Lazy, ...args: unknown[]) {
					const real = materialize(this)
					return Reflect.apply(Reflect.get(real, key) as Function, real, args)
				},
			})
		}
	}
}
