// Weights as safetensors: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}}, then the raw little-endian
// bytes. Names follow PyTorch's state_dict() ("fc1.weight"), so files move both ways
// between kernelnet and PyTorch (safetensors.torch.save_file / load_file).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <kernelnet/io.hpp>
#include <kernelnet/module.hpp>
#include <kernelnet/tensor.hpp>

namespace kn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

namespace safetensors {

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;  // as the reference implementation
constexpr uint64_t kMaxFileBytes = io::kMaxReadBytes;        // what load_safetensors reads by default: 2 GiB

inline const char* dtype_tag(Dtype d) { return d == Dtype::Float32 ? "F32" : d == Dtype::Int64 ? "I64" : "BOOL"; }

namespace detail {
// A header value as an error message shows it: scalars as JSON, cut short; arrays and
// objects by their type only, as dump() recurses once per level of nesting and a
// hostile header nested a million deep would overflow the stack.
inline std::string brief(const nlohmann::json& v) {
  if (v.is_structured()) return str("a JSON ", v.type_name());
  std::string s = v.dump();
  return s.size() <= 40 ? s : s.substr(0, 40) + "...";
}

// The header length, the first 8 bytes of a file of `size` bytes, checked against the
// size before anything is allocated for it.
inline uint64_t header_length(const char* first8, uint64_t size, const std::string& where) {
  KN_CHECK(size >= 8, where, ": truncated safetensors file (", size,
           " bytes; it must start with an 8-byte header length)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | uint8_t(first8[i]);
  KN_CHECK(header_len <= kMaxHeaderBytes, where, ": header of ", header_len, " bytes is over the ", kMaxHeaderBytes,
           "-byte limit");
  KN_CHECK(header_len <= size - 8, where, ": header length ", header_len, " runs past the end of the file (",
           size, " bytes)");
  return header_len;
}

struct Entry {
  std::string name;
  Dtype dtype;
  Shape shape;
  uint64_t begin, end;
};

// The tensors a JSON header lists, in file order, checked against a data section of
// `data_size` bytes: in range, not overlapping, covering it all. With `metadata`, the
// header's "__metadata__" is also read there; it must map names to strings.
inline std::vector<Entry> entries(const char* json, uint64_t header_len, uint64_t data_size, const std::string& where,
                                  std::map<std::string, std::string>* metadata = nullptr) {
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(json, json + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw Error(str(where, ": the header is not valid JSON: ", e.what()));
  }
  KN_CHECK(header.is_object(), where, ": the header must be a JSON object");
  std::vector<Entry> list;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!metadata) continue;
      KN_CHECK(it.value().is_object(), where, ": __metadata__ must be an object of strings");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        KN_CHECK(m.value().is_string(), where, ": __metadata__ entry '", m.key(), "' must be a string, got ",
                 brief(m.value()));
        (*metadata)[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto& info = it.value();
    const std::string at = str(where, ": tensor '", name, "'");
    KN_CHECK(info.is_object(), at, ": expected an object with dtype, shape and data_offsets");
    KN_CHECK(info.contains("dtype") && info["dtype"].is_string(), at, ": missing or non-string dtype");
    const std::string tag = info["dtype"].get<std::string>();
    Dtype dtype;
    if (tag == "F32") dtype = Dtype::Float32;
    else if (tag == "I64") dtype = Dtype::Int64;
    else if (tag == "BOOL") dtype = Dtype::Bool;
    else {
      static const char* known[] = {"U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                                    "I32",  "U32", "F64", "U64"};
      const bool is_known = std::find(std::begin(known), std::end(known), tag) != std::end(known);
      throw Error(str(at, ": ", is_known ? "unsupported" : "unknown", " dtype '", tag,
                      "' (kernelnet reads F32, I64 and BOOL)"));
    }
    KN_CHECK(info.contains("shape") && info["shape"].is_array(), at, ": missing or non-array shape");
    Shape shape;
    KN_CHECK(info["shape"].size() <= size_t(Shape::kMaxDims), at, ": shape has ", info["shape"].size(),
             " dimensions, at most ", Shape::kMaxDims, " are supported");
    for (const auto& d : info["shape"])
      KN_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0), at,
               ": shape entries must be non-negative integers, got ", detail::brief(d));
    uint64_t numel = 1;  // every entry is a number now, so the dump() below is short
    for (const auto& d : info["shape"]) {
      const uint64_t v = d.get<uint64_t>();
      KN_CHECK(v < (uint64_t(1) << 40) && (v == 0 || numel <= (uint64_t(1) << 40) / v), at, ": shape ",
               info["shape"].dump(), " is too large");
      numel *= v;
      shape.push_back(int64_t(v));
    }
    KN_CHECK(info.contains("data_offsets") && info["data_offsets"].is_array() && info["data_offsets"].size() == 2 &&
                 info["data_offsets"][0].is_number_unsigned() && info["data_offsets"][1].is_number_unsigned(),
             at, ": data_offsets must be two non-negative integers [begin, end]");
    const uint64_t begin = info["data_offsets"][0].get<uint64_t>(), end = info["data_offsets"][1].get<uint64_t>();
    KN_CHECK(begin <= end && end <= data_size, at, ": data_offsets [", begin, ", ", end,
             "] out of range (the data section has ", data_size, " bytes)");
    KN_CHECK(end - begin == numel * dtype_size(dtype), at, ": shape ", shape.str(), " of ", tag, " needs ",
             numel * dtype_size(dtype), " bytes but data_offsets span ", end - begin);
    list.push_back({name, dtype, shape, begin, end});
  }
  // Tensors may not overlap, and (as the format requires) they cover the data section.
  std::stable_sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  uint64_t covered = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0 && list[i].begin < list[i - 1].end)
      throw Error(str(where, ": tensor '", list[i].name, "' overlaps tensor '", list[i - 1].name,
                      "' in the data section"));
    covered += list[i].end - list[i].begin;
  }
  KN_CHECK(covered == data_size, where, ": the data section has ", data_size, " bytes but the tensors cover ",
           covered, " (a hole or trailing bytes)");
  return list;
}
}  // namespace detail

namespace detail {
// A BOOL tensor holds bytes 0 and 1 only: any other byte is not a bool.
inline void check_bools(const Tensor& t, const std::string& where, const std::string& name) {
  if (t.dtype() != Dtype::Bool) return;
  const auto* b = static_cast<const unsigned char*>(t.raw());
  for (int64_t i = 0; i < t.numel(); ++i)
    KN_CHECK(b[i] <= 1, where, ": tensor '", name, "': BOOL element ", i, " is the byte ", int(b[i]), ", not 0 or 1");
}
}  // namespace detail

// Parses a safetensors image (the whole file in memory). `where` names it in errors.
inline NamedTensors parse(const std::string& bytes, const std::string& where) {
  const uint64_t header_len = detail::header_length(bytes.data(), bytes.size(), where);
  const uint64_t data_size = bytes.size() - 8 - header_len;
  const char* data = bytes.data() + 8 + header_len;
  NamedTensors out;  // in file order
  for (const auto& e : detail::entries(bytes.data() + 8, header_len, data_size, where)) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw(), data + e.begin, e.end - e.begin);  // x86 and ARM are little-endian
    detail::check_bools(t, where, e.name);
    out.push_back({e.name, t});
  }
  return out;
}

// The bytes of a safetensors file holding `tensors` in the given order, and `metadata`
// (with "format": "pt", as PyTorch's files have).
inline std::string serialize(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata = {}) {
  nlohmann::ordered_json header;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    KN_CHECK(t.defined(), "safetensors: tensor '", name, "' is undefined");
    KN_CHECK(!header.contains(name), "safetensors: tensor name '", name, "' appears twice");
    header[name] = {{"dtype", dtype_tag(t.dtype())}, {"shape", t.shape().vec()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  header["__metadata__"] = {{"format", "pt"}};
  for (const auto& [key, value] : metadata) header["__metadata__"][key] = value;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((uint64_t(text.size()) >> (8 * i)) & 0xff);
  out += text;
  for (const auto& [name, t] : tensors) {
    Tensor c = t.cpu();
    out.append(static_cast<const char*>(c.raw()), c.nbytes());
  }
  return out;
}

}  // namespace safetensors

// A safetensors file as read: its tensors in file order, and its metadata.
struct SafetensorsFile {
  NamedTensors tensors;
  std::map<std::string, std::string> metadata;
};

namespace safetensors::detail {
// Reads the header first and checks it against the file's size, then reads each tensor
// straight into its own memory: a header that claims more than the file holds fails
// before anything big is allocated. A file over max_bytes is refused. With `metadata`,
// the header's metadata is read (and checked) too.
inline NamedTensors read(const std::string& path, uint64_t max_bytes, std::map<std::string, std::string>* metadata) {
  io::InFile f(path, "the safetensors file", max_bytes, "the max_bytes argument of kn::load_safetensors");
  char first8[8] = {};
  if (f.size() >= 8) f.read_exact(first8, 8);
  const uint64_t header_len = header_length(first8, f.size(), path);
  std::string header(header_len, '\0');
  f.read_exact(header.data(), header.size());
  NamedTensors out;  // in file order, which the checks made contiguous
  for (const auto& e : entries(header.data(), header_len, f.size() - 8 - header_len, path, metadata)) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    f.read_exact(t.raw(), e.end - e.begin);
    check_bools(t, path, e.name);
    out.push_back({e.name, t});
  }
  return out;
}
}  // namespace safetensors::detail

// A file's tensors (its metadata is not looked at). Default cap: 2 GiB.
inline NamedTensors load_safetensors(const std::string& path, uint64_t max_bytes = safetensors::kMaxFileBytes) {
  return safetensors::detail::read(path, max_bytes, nullptr);
}
// Its tensors and its metadata (which must map names to strings).
inline SafetensorsFile read_safetensors(const std::string& path, uint64_t max_bytes = safetensors::kMaxFileBytes) {
  SafetensorsFile out;
  out.tensors = safetensors::detail::read(path, max_bytes, &out.metadata);
  return out;
}

// Written through a temporary file and a rename: never half-written.
inline void save_safetensors(const std::string& path, const NamedTensors& tensors,
                             const std::map<std::string, std::string>& metadata = {}) {
  const std::string bytes = safetensors::serialize(tensors, metadata);
  io::write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
}

// Saves a module's state_dict().
inline void save(const Module& module, const std::string& path) { save_safetensors(path, module.state_dict()); }

// Copies a file's tensors into a module's parameters, which stay on their device.
// Every parameter must be in the file with its shape, and the file may hold nothing
// else; otherwise nothing is changed and the error names the tensor.
inline void load_state_dict(Module& module, const NamedTensors& tensors, const std::string& where) {
  std::map<std::string, Tensor> given;
  for (const auto& [name, t] : tensors) given[name] = t;
  const auto params = module.state_dict();
  for (const auto& [name, p] : params) {
    auto it = given.find(name);
    KN_CHECK(it != given.end(), where, ": missing tensor '", name, "' (expected shape ", p.shape().str(), ")");
    KN_CHECK(it->second.dtype() == p.dtype(), where, ": tensor '", name, "' is ", dtype_name(it->second.dtype()),
             ", the model's is ", dtype_name(p.dtype()));
    KN_CHECK(it->second.shape() == p.shape(), where, ": tensor '", name, "' has shape ", it->second.shape().str(),
             ", the model expects ", p.shape().str());
  }
  if (given.size() != params.size())
    for (const auto& [name, t] : tensors) {
      bool known = false;
      for (const auto& [pn, p] : params) known = known || pn == name;
      KN_CHECK(known, where, ": unexpected tensor '", name, "' (", t.shape().str(), "): the model has no such parameter");
    }
  for (const auto& [name, p] : params) {  // all checked: now copy
    const Tensor& src = given[name];
    copy_bytes(p.raw(), p.device(), src.raw(), src.device(), p.nbytes());
  }
}

inline void load(Module& module, const std::string& path) { load_state_dict(module, load_safetensors(path), path); }

}  // namespace kn
