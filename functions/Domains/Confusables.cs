using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace RelayFunctions.Domains;

/// <summary>
/// Confusable names (UTS #39): <c>аcme.example</c> with a Cyrillic а looks like <c>acme.example</c>. Two names are
/// confusable when their skeletons are equal; the skeletons come from ICU's spoof checker, in the ICU the runtime
/// already loads for globalization (libicui18n, found by its versioned symbols as .NET finds libicuuc's).
/// </summary>
public static unsafe class Confusables
{
    private static readonly Lazy<Icu> Library = new(Icu.Load);

    /// <summary>The UTS #39 skeleton of a name's Unicode form, lowercase: equal skeletons look alike.</summary>
    public static string Skeleton(DomainName name) => Library.Value.Skeleton(name.Unicode).ToLowerInvariant();

    /// <summary>A short key for a skeleton, safe in any storage key.</summary>
    public static string Key(string skeleton) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(skeleton)))[..32];

    private sealed class Icu
    {
        private readonly nint _checker;
        private readonly delegate* unmanaged<nint, uint, char*, int, char*, int, int*, int> _skeleton;

        private Icu(nint checker, delegate* unmanaged<nint, uint, char*, int, char*, int, int*, int> skeleton)
        {
            _checker = checker;
            _skeleton = skeleton;
        }

        public static Icu Load()
        {
            // ICU's symbols carry its major version (uspoof_open_72); try the versions a distribution may ship.
            for (var version = 90; version >= 50; version--)
            {
                if (!NativeLibrary.TryLoad($"libicui18n.so.{version}", out var library))
                {
                    continue;
                }
                if (NativeLibrary.TryGetExport(library, $"uspoof_open_{version}", out var open)
                    && NativeLibrary.TryGetExport(library, $"uspoof_getSkeleton_{version}", out var skeleton))
                {
                    var status = 0;
                    var checker = ((delegate* unmanaged<int*, nint>)open)(&status);
                    if (status <= 0 && checker != 0)
                    {
                        // The checker is never closed: one for the life of the process, and getSkeleton is thread-safe.
                        return new Icu(checker, (delegate* unmanaged<nint, uint, char*, int, char*, int, int*, int>)skeleton);
                    }
                }
                NativeLibrary.Free(library);
            }
            throw new InvalidOperationException("ICU's libicui18n was not found (Debian: apt-get install libicu72).");
        }

        public string Skeleton(string text)
        {
            var buffer = new char[Math.Max(64, text.Length * 4)];
            while (true)
            {
                var status = 0;
                int length;
                fixed (char* input = text)
                fixed (char* output = buffer)
                {
                    length = _skeleton(_checker, 0, input, text.Length, output, buffer.Length, &status);
                }
                // U_BUFFER_OVERFLOW_ERROR (15): the skeleton is longer than the buffer; its length is returned.
                if (status == 15)
                {
                    buffer = new char[length + 1];
                    continue;
                }
                if (status > 0)
                {
                    throw new InvalidOperationException($"ICU could not compute the skeleton of '{text}' (error {status}).");
                }
                return new string(buffer, 0, length);
            }
        }
    }
}
