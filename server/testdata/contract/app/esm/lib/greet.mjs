// Syntax newer than goja runs natively, lowered by esbuild.
class Greeter {
  greeting = "hello";
  greet({ name, ...rest }) {
    return `${rest.greeting ?? this.greeting}, ${name?.trim() ?? "nobody"}`;
  }
}

export default function greet(name) {
  return new Greeter().greet({ name });
}
