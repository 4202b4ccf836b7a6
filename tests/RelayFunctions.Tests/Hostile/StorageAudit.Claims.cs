using System.Text.Json;
using Azure.Data.Tables;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Storage;

namespace RelayFunctions.Tests.Hostile;

internal static partial class StorageAudit
{
    /// <summary>Held names: canonical, in the right family, and no two accounts holding overlapping or look-alike names.</summary>
    private static void Claims(List<TableEntity> families, List<TableEntity> domains, List<string> invalid)
    {
        var published = domains.Select(DomainStore.TryFromEntity).OfType<MailDomain>().Where(d => d.Verification.IsPublished)
            .Select(d => (d.AccountId, d.Name.Value)).ToHashSet();
        var held = new HashSet<(string, string)>();
        var all = new List<DomainClaims.Member>();
        foreach (var family in families)
        {
            void Bad(string what) => invalid.Add($"DomainFamilies({family.PartitionKey}): {what}");
            List<DomainClaims.Member>? members = null;
            try
            {
                members = EntityText.Read<List<DomainClaims.Member>>(family, "MemberChunks", "Members");
            }
            catch (JsonException x)
            {
                Bad($"members are not JSON: {x.Message}");
            }
            foreach (var m in members ?? [])
            {
                held.Add((m.Account, m.Name));
                AccountKey(m.Account, Bad);
                if (Name("member", m.Name, Bad) is not { } name)
                {
                    continue;
                }
                if (Confusables.Skeleton(name) != m.Skeleton || DomainClaims.FamilyOf(name) != family.PartitionKey)
                {
                    Bad($"{m.Name}'s skeleton or family is not the one the app computes");
                }
                if (!published.Contains((m.Account, m.Name)))
                {
                    Bad($"{m.Account} holds {m.Name} but has no verified domain of that name");
                }
                all.Add(m);
            }
        }
        // Across families too: two names in different families must not overlap or look alike either.
        foreach (var m in all)
        {
            foreach (var other in all.Where(o => o.Account != m.Account && string.CompareOrdinal(o.Name, m.Name) > 0))
            {
                // Joiners are invisible: names whose skeletons differ only by them look the same.
                var (a, b) = (Visible(m.Skeleton), Visible(other.Skeleton));
                if (a == b || a.EndsWith("." + b, StringComparison.Ordinal) || b.EndsWith("." + a, StringComparison.Ordinal))
                {
                    invalid.Add($"DomainFamilies: {m.Account} holds {m.Name} ({Show(m.Skeleton)}) and {other.Account} holds {other.Name} ({Show(other.Skeleton)}): "
                        + "overlapping or look-alike names of two accounts");
                }
            }
        }
        foreach (var d in domains.Select(DomainStore.TryFromEntity).OfType<MailDomain>().Where(d => d.Verification.IsPublished && !held.Contains((d.AccountId, d.Name.Value))))
        {
            invalid.Add($"Domains({d.AccountId}, {d.Name.Value}): {VerificationStates.ToName(d.Verification.State)} by {d.Verification.Method} at {d.Verification.VerifiedAt:O}, "
                + "in the relay map, but its name is not held against other accounts");
        }
    }

    private static string Visible(string skeleton) => skeleton.Replace("\u200c", "", StringComparison.Ordinal).Replace("\u200d", "", StringComparison.Ordinal);
}
