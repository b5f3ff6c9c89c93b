// user/auth, at /api/user/auth: step 2 of the workflow. The client sends its login
// and password (query string, form or JSON body, GET or POST) and gets the session
// hash for every later call:
//   {"success": true, "hash": "22eac1c27af4be7b9d04da2ce1af111b"}
// A missing parameter is error 7 (Invalid parameters), a wrong login or password
// error 102, both with HTTP status 400.
import { httpError, invalid, readParams } from "./api";
import { createSession, findUser } from "./sessions";

export async function onRequest(req) {
  try {
    const params = readParams(req);
    const errors = [];
    for (const name of ["login", "password"]) {
      if (typeof params[name] !== "string" || params[name] === "") {
        errors.push({ parameter: name, error: "required" });
      }
    }
    invalid(errors);
    const user = findUser(params.login, params.password);
    const hash = await createSession(user);
    return { success: true, hash };
  } catch (err) {
    return httpError(err);
  }
}
